/**
 * Integration test in the aws-cdk style, run by integ-runner against a real AWS account (see README.md here).
 * CI never deploys it: it only checks that the committed snapshot matches what this app synthesizes.
 *
 * Stacks:
 *  - EcsPublicDiscoveryIntegZone: a public hosted zone; it outlives the app stack so that the records can be read
 *    after the app stack is gone.
 *  - EcsPublicDiscoveryIntegApp: the README example (public subnets, a cluster, one Fargate service starting at
 *    0 tasks, the discovery construct registering it as `www`).
 *  - the assertion stack integ-tests adds, whose API calls run in this order:
 *    1. scale the service to 2 tasks; wait until Route53 holds exactly 2 multi-value A records at the name;
 *    2. scale it to 1; wait until exactly 1 record is left;
 *    3. delete the app stack (with its task still running); wait for DELETE_COMPLETE;
 *    4. wait until no record is left at the name.
 *
 * Fixed physical names (stack, cluster and service names) let the assertions address the app stack without
 * importing its outputs, which would block its deletion.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EcsPublicDiscovery } from '../../src';

const ZONE_NAME = 'ecs-public-discovery-integ.example.com';
const RECORD = 'www';
const FQDN = `${RECORD}.${ZONE_NAME}.`;
const TTL_SECONDS = 30;
const APP_STACK = 'EcsPublicDiscoveryIntegApp';
const CLUSTER = 'ecs-public-discovery-integ';
const SERVICE = 'web';

const app = new App();

const zoneStack = new Stack(app, 'EcsPublicDiscoveryIntegZone');
const zone = new route53.PublicHostedZone(zoneStack, 'Zone', { zoneName: ZONE_NAME });

const stack = new Stack(app, APP_STACK);
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
});
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, clusterName: CLUSTER });
const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Server', { cpu: 256, memoryLimitMiB: 512 });
taskDefinition.addContainer('web', {
  image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'),
  portMappings: [{ containerPort: 80 }],
});
const service = new ecs.FargateService(stack, 'Service', {
  cluster,
  taskDefinition,
  serviceName: SERVICE,
  desiredCount: 0,
  assignPublicIp: true,
  minHealthyPercent: 0,
  maxHealthyPercent: 200,
});
const discovery = new EcsPublicDiscovery(stack, 'Discovery', { cluster, hostedZone: zone });
discovery.addService({ service, name: RECORD, dnsTtl: Duration.seconds(TTL_SECONDS) });

const integ = new IntegTest(app, 'EcsPublicDiscoveryInteg', {
  testCases: [zoneStack, stack],
  // The handler's bundle changes with every handler commit; the template is what this test pins.
  diffAssets: false,
  // The assertions delete the app stack themselves: deploying the previous snapshot first would not help.
  stackUpdateWorkflow: false,
});

/** The records at the registered name, checked until they match (tasks take a minute or two to start). */
function expectRecords(count: number) {
  const record = { Name: FQDN, Type: 'A', TTL: TTL_SECONDS, MultiValueAnswer: true };
  return integ.assertions
    .awsApiCall('Route53', 'ListResourceRecordSets', {
      HostedZoneId: zone.hostedZoneId,
      StartRecordName: FQDN,
      StartRecordType: 'A',
    })
    // Nothing sorts after the name in this zone, so the list holds exactly the records at the name.
    .expect(ExpectedResult.objectLike({ ResourceRecordSets: Array.from({ length: count }, () => record) }))
    .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(20) });
}

function scaleTo(desiredCount: number) {
  return integ.assertions.awsApiCall('ECS', 'UpdateService', { cluster: CLUSTER, service: SERVICE, desiredCount });
}

const stackId = integ.assertions.awsApiCall('CloudFormation', 'DescribeStacks', { StackName: APP_STACK });
const deleteStack = integ.assertions.awsApiCall('CloudFormation', 'DeleteStack', { StackName: APP_STACK });
// CloudFormation deletes the stack with the role it was deployed with (the CDK bootstrap's execution role).
deleteStack.provider.addToRolePolicy({
  Effect: 'Allow',
  Action: ['iam:PassRole'],
  Resource: ['arn:*:iam::*:role/cdk-*-cfn-exec-role-*'],
});
const deleted = integ.assertions
  // A deleted stack is found by its id only.
  .awsApiCall('CloudFormation', 'DescribeStacks', { StackName: stackId.getAttString('Stacks.0.StackId') })
  .expect(ExpectedResult.objectLike({ Stacks: [{ StackStatus: 'DELETE_COMPLETE' }] }))
  .waitForAssertions({ totalTimeout: Duration.minutes(30), interval: Duration.seconds(30) });

scaleTo(2)
  .next(expectRecords(2))
  .next(scaleTo(1))
  .next(expectRecords(1))
  .next(stackId)
  .next(deleteStack)
  .next(deleted)
  .next(expectRecords(0));

app.synth();
