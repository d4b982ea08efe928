import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EcsPublicDiscovery } from 'cdk-ecs-public-discovery';
import { Construct } from 'constructs';

/**
 * The README's example: one Fargate service whose tasks answer at mc.example.com.
 * The hosted zone is imported, so synthesizing needs no AWS account.
 */
export class GameStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z1R8UBAEXAMPLE',
      zoneName: 'example.com',
    });

    const discovery = new EcsPublicDiscovery(this, 'Discovery', { cluster, hostedZone });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Server');
    taskDefinition.addContainer('server', {
      image: ecs.ContainerImage.fromRegistry('itzg/minecraft-server'),
      portMappings: [{ containerPort: 25565 }],
    });
    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      assignPublicIp: true,
    });

    // Tasks of this service answer at mc.example.com, with a 30 second TTL.
    discovery.addService({ service, name: 'mc', dnsTtl: cdk.Duration.seconds(30) });
  }
}
