#!/usr/bin/env node
/*
 * Runs cdk-nag's AwsSolutions pack over the README example (lib/game-stack.js of the consumer app) the way a
 * user of that cdk-nag major does, prints every finding, and fails on findings the allow-list does not name.
 *
 *  - cdk-nag 2: an aspect, `Aspects.of(app).add(new AwsSolutionsChecks())`; findings come through a logger.
 *  - cdk-nag 3: a policy-validation plugin, `Validations.of(app).addPlugins(new AwsSolutionsChecks(app))`;
 *    findings come from the validation report CDK writes into the cloud assembly.
 *
 * Usage (from the consumer app folder): node nag-check.js <allow-list.json>
 * Plain CommonJS, so it runs unchanged against both majors.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const cdk = require('aws-cdk-lib');
const nag = require('cdk-nag');
const { GameStack } = require(path.resolve('lib/game-stack'));

const allowFile = process.argv[2];
const nagVersion = require('cdk-nag/package.json').version;
const cdkVersion = require('aws-cdk-lib/package.json').version;
const nagMajor = parseInt(nagVersion, 10);
const outdir = path.resolve('cdk.nag.out');
fs.rmSync(outdir, { recursive: true, force: true });

/** @type {{rule: string, path: string, level: string}[]} */
const findings = [];
let acknowledged = 0;

if (nagMajor < 3) {
  const app = new cdk.App({ outdir });
  new GameStack(app, 'GameStack');
  const logger = {
    onCompliance() {},
    onNotApplicable() {},
    onNonCompliance(d) {
      findings.push({ rule: d.ruleId + (d.findingId ? `[${d.findingId}]` : ''), path: d.resource.node.path, level: String(d.ruleLevel) });
    },
    onSuppressed() { acknowledged++; },
    onError(d) { findings.push({ rule: `${d.ruleId} (rule error: ${d.errorMessage})`, path: d.resource.node.path, level: 'Error' }); },
    onSuppressedError() { acknowledged++; },
  };
  cdk.Aspects.of(app).add(new nag.AwsSolutionsChecks({ reports: false, additionalLoggers: [logger] }));
  app.synth();
} else {
  // Ask CDK for the JSON form of the validation report as well as the printed one.
  const app = new cdk.App({ outdir, context: { '@aws-cdk/core:validationReportJson': true } });
  new GameStack(app, 'GameStack');
  cdk.Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (err) {
    // CDK fails the synthesis when a plugin reports violations; the report is written first.
    if (!fs.existsSync(path.join(outdir, 'policy-validation-report.json'))) {
      throw err;
    }
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'policy-validation-report.json'), 'utf8'));
  for (const pluginReport of report.pluginReports ?? []) {
    for (const v of pluginReport.violations ?? []) {
      for (const c of v.violatingConstructs ?? v.violatingResources ?? []) {
        findings.push({
          rule: v.ruleName,
          path: c.constructPath ?? `${c.templatePath}#${c.resourceLogicalId}`,
          level: v.severity ?? 'unknown',
        });
      }
    }
  }
}

const allow = JSON.parse(fs.readFileSync(allowFile, 'utf8')).allowed
  .filter(a => !a.nag || a.nag.includes(nagMajor));
const matches = (a, f) => new RegExp(`^(${a.rule})$`).test(f.rule) && new RegExp(a.path).test(f.path);

const unique = [...new Map(findings.map(f => [`${f.path} ${f.rule}`, f])).values()]
  .sort((a, b) => (a.path + a.rule).localeCompare(b.path + b.rule));
console.log(`cdk-nag ${nagVersion} (AwsSolutions) on aws-cdk-lib ${cdkVersion}: ${unique.length} finding(s), ${acknowledged} acknowledged by the code`);
const unexpected = [];
for (const f of unique) {
  const entry = allow.find(a => matches(a, f));
  console.log(`  ${entry ? 'allowed   ' : 'UNEXPECTED'} ${f.level.padEnd(7)} ${f.rule} at ${f.path}${entry ? `  (${entry.why})` : ''}`);
  if (!entry) unexpected.push(f);
}
for (const a of allow.filter(a => a.expectRemoval && !unique.some(f => matches(a, f)))) {
  console.log(`  note: allow-list entry "${a.rule}" at ${a.path} no longer matches any finding; remove it from ${path.basename(allowFile)}`);
}
if (unexpected.length > 0) {
  console.error(`cdk-nag: ${unexpected.length} finding(s) not in ${allowFile}`);
  process.exit(1);
}
