import { App, Stack, Token, aws_ecs as ecs, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { checkPort, defaultContainerPort } from '../../src/private/container-port';

function serviceWith(ports: number[] | undefined): ecs.FargateService {
  const stack = new Stack(new App(), 'S');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(stack, 'C', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'T');
  if (ports !== undefined) {
    taskDefinition.addContainer('app', {
      image: ecs.ContainerImage.fromRegistry('x'),
      portMappings: ports.map(containerPort => ({ containerPort })),
    });
  } else {
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('x') });
  }
  return new ecs.FargateService(stack, 'Svc', { cluster, taskDefinition, assignPublicIp: true });
}

describe('defaultContainerPort', () => {
  test('the first port mapping of the default container', () => {
    expect(defaultContainerPort(serviceWith([25565, 25575]), 'service', 'srv')).toBe(25565);
  });
  test('no port mapping: names the option to set', () => {
    expect(() => defaultContainerPort(serviceWith(undefined), 'service \'S/Svc\'', 'srv'))
      .toThrow("The srv of the service 'S/Svc' takes its port from the task definition 'S/T', but its default container 'app' has no port mapping: give the port explicitly (srv.port)");
  });
});

describe('checkPort', () => {
  test.each([1, 80, 65535])('accepts %d', port => expect(checkPort(port, 'service', 'healthCheck')).toBe(port));
  test.each([0, 65536, 1.5, -1])('refuses %d', port => {
    expect(() => checkPort(port, 'service', 'healthCheck')).toThrow(`The healthCheck.port of the service is ${port}, but it must be a literal whole number in 1..65535`);
  });
  test('refuses a token', () => {
    expect(() => checkPort(Token.asNumber({ Ref: 'P' }), 'service', 'srv')).toThrow('The srv.port of the service is only known at deploy time');
  });
});
