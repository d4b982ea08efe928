/**
 * cdk-nag's AwsSolutions pack over the example stack: no unsuppressed error or warning may remain.
 *
 * The construct attaches its own suppressions as `cdk_nag` metadata (it does not depend on cdk-nag);
 * the example acknowledges the findings of its own resources. Every acknowledged finding is printed
 * with its reason so that it can be reviewed and quoted.
 */
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import {
  AwsSolutionsChecks,
  INagLogger,
  NagLoggerComplianceData,
  NagLoggerErrorData,
  NagLoggerNonComplianceData,
  NagLoggerNotApplicableData,
  NagLoggerSuppressedData,
  NagLoggerSuppressedErrorData,
} from 'cdk-nag';
import { buildExampleStack, buildManyServicesApp } from '../emulator/example-app';
import { EcsPublicDiscovery } from '../src';

interface Acknowledged {
  readonly path: string;
  readonly ruleId: string;
  readonly findingId: string;
  readonly reason: string;
}

/** Collects what cdk-nag suppressed, and the rules it could not evaluate. */
class RecordingLogger implements INagLogger {
  public readonly suppressed: Acknowledged[] = [];
  public readonly errors: string[] = [];
  public onCompliance(_data: NagLoggerComplianceData): void {}
  public onNonCompliance(_data: NagLoggerNonComplianceData): void {}
  public onNotApplicable(_data: NagLoggerNotApplicableData): void {}
  public onSuppressed(data: NagLoggerSuppressedData): void {
    this.suppressed.push({
      path: data.resource.node.path,
      ruleId: data.ruleId,
      findingId: data.findingId,
      reason: data.suppressionReason,
    });
  }
  public onError(data: NagLoggerErrorData): void {
    this.errors.push(`${data.resource.node.path} ${data.ruleId}: ${data.errorMessage}`);
  }
  public onSuppressedError(data: NagLoggerSuppressedErrorData): void {
    this.errors.push(`${data.resource.node.path} ${data.ruleId} (suppressed): ${data.errorMessage}`);
  }
}

function runNag(stack: Stack): RecordingLogger {
  const logger = new RecordingLogger();
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true, reports: false, additionalLoggers: [logger] }));
  return logger;
}

function nagMessages(stack: Stack): { errors: string[]; warnings: string[] } {
  const annotations = Annotations.fromStack(stack);
  const format = (messages: ReturnType<Annotations['findError']>) => messages.map(m => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
  return {
    errors: format(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))),
    warnings: format(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))),
  };
}

function report(title: string, acknowledged: Acknowledged[]): void {
  const unique = new Map<string, Acknowledged>();
  for (const a of acknowledged) {
    unique.set(`${a.path}|${a.ruleId}|${a.findingId}`, a);
  }
  const lines = [...unique.values()].map(a => `- ${a.ruleId}${a.findingId ? `[${a.findingId}]` : ''} on ${a.path}\n    reason: ${a.reason}`);
  console.log(`${title} (${unique.size} acknowledged findings):\n${lines.join('\n')}`);
}

describe('cdk-nag AwsSolutions', () => {
  test('the example stack has no unsuppressed error or warning', () => {
    const { stack } = buildExampleStack();
    const logger = runNag(stack);

    const { errors, warnings } = nagMessages(stack);

    report('Example stack', logger.suppressed);
    expect(logger.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  test('the construct only acknowledges its unavoidable findings, each with a reason', () => {
    const { stack } = buildExampleStack();
    const logger = runNag(stack);
    nagMessages(stack);

    const own = logger.suppressed.filter(a => a.path.startsWith(`${stack.stackName}/Discovery/`));
    const findings = [...new Set(own.map(a => `${a.path.replace(`${stack.stackName}/`, '')} ${a.ruleId} ${a.findingId}`))].sort();
    expect(findings).toEqual([
      'Discovery/Role/DefaultPolicy/Resource AwsSolutions-IAM5 Resource::*',
      'Discovery/Role/DefaultPolicy/Resource AwsSolutions-IAM5 Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<ClusterEB0386A7>/*',
    ]);
    for (const a of own) {
      expect(a.reason.length).toBeGreaterThan(50);
    }
  });

  test('a service published in three zones (split-horizon and a second public zone) adds no finding', () => {
    const example = buildManyServicesApp(0);
    const privateZone = new route53.PrivateHostedZone(example.stack, 'PrivateZone', { zoneName: 'example.com', vpc: example.vpc });
    const otherZone = new route53.PublicHostedZone(example.stack, 'OtherZone', { zoneName: 'example.net' });
    example.addService('Web', 'web', { additionalZones: [{ hostedZone: privateZone }, { hostedZone: otherZone, name: 'games' }] });
    const logger = runNag(example.stack);
    const { errors, warnings } = nagMessages(example.stack);
    expect(logger.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    // Each zone's write policy names its zone exactly: nothing of the record writes needs acknowledging.
    const own = logger.suppressed.filter(a => a.path.includes('/Discovery/RecordWrites'));
    expect(own).toEqual([]);
    expect(example.stack.node.findAll().filter(c => c.node.path.includes('/Discovery/RecordWrites') && c.node.id === 'Resource')).toHaveLength(3);
  });

  test('with Route53 health checks per task: clean, the construct acknowledging only the health check wildcards besides', () => {
    const { stack } = buildExampleStack({ healthChecks: { Web: {} } });
    const logger = runNag(stack);

    const { errors, warnings } = nagMessages(stack);

    report('Example stack with health checks', logger.suppressed);
    expect(logger.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    const own = logger.suppressed.filter(a => a.path.startsWith(`${stack.stackName}/Discovery/`));
    const findings = [...new Set(own.map(a => `${a.path.replace(`${stack.stackName}/`, '')} ${a.ruleId} ${a.findingId}`))].sort();
    expect(findings).toEqual([
      'Discovery/HealthChecks/Resource AwsSolutions-IAM5 Resource::*',
      'Discovery/HealthChecks/Resource AwsSolutions-IAM5 Resource::arn:<AWS::Partition>:route53:::healthcheck/*',
      'Discovery/Role/DefaultPolicy/Resource AwsSolutions-IAM5 Resource::*',
      'Discovery/Role/DefaultPolicy/Resource AwsSolutions-IAM5 Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<ClusterEB0386A7>/*',
    ]);
  });

  test.each([
    ['tracing enabled', { tracing: lambda.Tracing.ACTIVE }],
    ['no reconciliation, no alarm', { reconciliation: false, deadLetterAlarm: false }],
  ])('the construct alone is clean with %s', (_title, extra) => {
    const app = new App();
    const stack = new Stack(app, 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'games',
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'], publicSubnetIds: ['subnet-1'] }),
    });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' });
    new EcsPublicDiscovery(stack, 'Discovery', { cluster, hostedZone, ...extra });
    const logger = runNag(stack);

    const { errors, warnings } = nagMessages(stack);

    report(`Construct alone, ${_title}`, logger.suppressed);
    expect(logger.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
