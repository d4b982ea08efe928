#!/usr/bin/env node
/*
 * Checks a synthesized cloud assembly of the README example (any language) for what a user of the
 * built package must get:
 *  - the discovery function's code is a prebuilt file asset (a zip of a directory holding index.mjs and its chunks),
 *    not inline code, not a container image, and no Docker image asset exists at all;
 *  - the EventBridge rule forwarding ECS task state changes;
 *  - the service tags public-discovery:name / public-discovery:ttl;
 *  - route53:ChangeResourceRecordSets scoped by the ChangeResourceRecordSetsNormalizedRecordNames condition.
 *
 * Usage: node assert-template.js <cdk.out dir> <stack name> <record name> <ttl seconds>
 * Plain Node.js, no dependencies: the Python and Java consumer tests use it too.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const [outdir, stackName, recordName, ttl] = process.argv.slice(2);
if (!outdir || !stackName || !recordName || !ttl) {
  console.error('usage: assert-template.js <cdk.out> <stack> <record name> <ttl>');
  process.exit(2);
}

const failures = [];
const check = (ok, what) => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const template = JSON.parse(fs.readFileSync(path.join(outdir, `${stackName}.template.json`), 'utf8'));
const resources = Object.entries(template.Resources ?? {});
const ofType = type => resources.filter(([, r]) => r.Type === type);

// 1. The function's code: an S3 file asset whose staged directory holds the prebuilt bundle.
const assets = JSON.parse(fs.readFileSync(path.join(outdir, `${stackName}.assets.json`), 'utf8'));
check(Object.keys(assets.dockerImages ?? {}).length === 0, 'no Docker image asset in the assembly');
const functions = ofType('AWS::Lambda::Function').filter(([, r]) => r.Properties?.Runtime?.startsWith('nodejs'));
check(functions.length >= 1, `a Node.js Lambda function (${functions.map(([id]) => id).join(', ') || 'none'})`);
let prebuilt = false;
for (const [id, fn] of functions) {
  const code = fn.Properties.Code ?? {};
  if (code.ZipFile || code.ImageUri) {
    continue;
  }
  const key = typeof code.S3Key === 'string' ? code.S3Key : undefined;
  const hash = key?.replace(/\.zip$/, '');
  const file = hash ? assets.files?.[hash] : undefined;
  if (!file || file.source.packaging !== 'zip') {
    continue;
  }
  const staged = path.join(outdir, file.source.path);
  const index = path.join(staged, 'index.mjs');
  if (fs.existsSync(index) && fs.statSync(index).size > 10_000) {
    const files = fs.readdirSync(staged);
    console.log(`  ..   ${id}: ${fn.Properties.Runtime} ${JSON.stringify(fn.Properties.Architectures)}, asset ${file.source.path} (${files.join(', ')}; index.mjs ${fs.statSync(index).size} bytes)`);
    prebuilt = true;
  }
}
check(prebuilt, 'the discovery function runs a prebuilt bundle staged as a file asset (index.mjs)');

// 2. The rule forwarding ECS task state changes.
const rules = ofType('AWS::Events::Rule').filter(([, r]) => {
  const p = r.Properties?.EventPattern;
  return p && JSON.stringify(p.source) === '["aws.ecs"]' && JSON.stringify(p['detail-type']) === '["ECS Task State Change"]';
});
check(rules.length === 1, 'one EventBridge rule for ECS Task State Change events');
check(ofType('AWS::SQS::Queue').length >= 2, 'the event queue and its dead-letter queue');

// 3. The service carries the tags its tasks inherit.
const services = ofType('AWS::ECS::Service');
const tagsOf = r => Object.fromEntries((r.Properties?.Tags ?? []).map(t => [t.Key, t.Value]));
const tagged = services.filter(([, r]) => tagsOf(r)['public-discovery:name'] === recordName);
check(tagged.length === 1, `the service is tagged public-discovery:name=${recordName}`);
check(tagged.length === 1 && String(tagsOf(tagged[0][1])['public-discovery:ttl']) === String(ttl),
  `the service is tagged public-discovery:ttl=${ttl}`);
check(tagged.length === 1 && ['SERVICE', 'TASK_DEFINITION'].includes(tagged[0][1].Properties.PropagateTags),
  'the service propagates its tags to its tasks');

// 4. Route53 writes are scoped to the registered names.
// The Route53 writes live in customer managed policies of their own; everything else in the role's default policy.
const statements = [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')].flatMap(([, r]) => r.Properties.PolicyDocument.Statement);
const asList = v => (Array.isArray(v) ? v : [v]);
const change = statements.filter(s => s.Effect === 'Allow' && asList(s.Action).includes('route53:ChangeResourceRecordSets'));
check(change.length >= 1, 'an Allow statement for route53:ChangeResourceRecordSets');
const conditionKeys = change.flatMap(s => Object.values(s.Condition ?? {}).flatMap(c => Object.keys(c)));
check(change.length >= 1 && change.every(s => s.Condition && Object.values(s.Condition).some(c => 'route53:ChangeResourceRecordSetsNormalizedRecordNames' in c)),
  `every such statement carries route53:ChangeResourceRecordSetsNormalizedRecordNames (keys: ${[...new Set(conditionKeys)].join(', ')})`);
const names = JSON.stringify(change.map(s => Object.values(s.Condition).map(c => c['route53:ChangeResourceRecordSetsNormalizedRecordNames'])));
check(names.includes(`${recordName}.example.com`), `the condition names ${recordName}.example.com`);
check(change.every(s => asList(s.Resource).every(r => r !== '*')), 'the statement names the hosted zone, not *');

if (failures.length > 0) {
  console.error(`template check failed: ${failures.length} problem(s)`);
  process.exit(1);
}
console.log(`template check passed: ${resources.length} resources in ${stackName}`);
