/**
 * Checks of a service given to `addService`: that it runs in the construct's cluster, that it is an ECS service
 * of this app, that its tasks get a public IP, and which name the rule and the handler know it by. Values only known at deploy time are not
 * checked. Every error names the service and says how to fix it.
 */
import { CfnResource, Stack, Token, aws_ecs as ecs } from 'aws-cdk-lib';
import { IConstruct, IValidation } from 'constructs';

/** Refuses a service of another cluster than the construct's. Clusters only known at deploy time are not compared. */
export function checkSameCluster(scope: IConstruct, cluster: ecs.ICluster, service: ecs.BaseService, where: string): void {
  const same = sameValue(Stack.of(scope), cluster.clusterArn, service.cluster.clusterArn);
  if (same === false) {
    throw new Error(`The ${where} runs in the cluster '${service.cluster.node.path}' but this EcsPublicDiscovery `
      + `watches the cluster '${cluster.node.path}': register the service with an EcsPublicDiscovery created for `
      + 'its own cluster.');
  }
}

/** The L1 resource of a service; the checks and tags are applied to it. */
export function cfnServiceOf(service: ecs.BaseService, where: string): ecs.CfnService {
  const child = service.node.defaultChild;
  if (!child || !CfnResource.isCfnResource(child) || child.cfnResourceType !== ecs.CfnService.CFN_RESOURCE_TYPE_NAME) {
    throw new Error(`The ${where} has no AWS::ECS::Service resource as its default child: register a FargateService `
      + '(or another ecs.BaseService) created in this app, not a wrapper around it.');
  }
  return child as ecs.CfnService;
}

/**
 * Refuses a service whose tasks get no address to publish: it must use the awsvpc network mode and run on
 * Fargate, and, when `requirePublicIp` (an IPv4 or dual-stack service; an IPv6-only one needs no public
 * IPv4 address), assign public IPs. Settings only known at deploy time are not checked.
 */
export function checkPublicIp(service: ecs.BaseService, cfnService: ecs.CfnService, where: string, requirePublicIp = true): void {
  const networkMode = service.taskDefinition.networkMode;
  if (networkMode !== ecs.NetworkMode.AWS_VPC) {
    throw new Error(`The ${where} uses the task definition '${service.taskDefinition.node.path}' with the network mode `
      + `'${networkMode}', but only the 'awsvpc' mode gives each task its own network interface and public IP: `
      + 'set networkMode: ecs.NetworkMode.AWS_VPC on the task definition (Fargate task definitions always use it).');
  }
  if (service instanceof ecs.Ec2Service || cfnService.launchType === ecs.LaunchType.EC2) {
    throw new Error(`The ${where} is an EC2 service: ECS cannot assign public IPs to awsvpc tasks on EC2 instances `
      + '(assignPublicIp is a Fargate setting), so its tasks have no public IP to publish: run it as a FargateService '
      + 'with assignPublicIp: true.');
  }
  if (!requirePublicIp) {
    // IPv6 only: the address is the ENI's IPv6 address, which the subnet assigns; assignPublicIp does not matter.
    return;
  }
  // The L2 service fills this property through a Lazy: resolve it to read what will be deployed.
  // Values left as CloudFormation intrinsics (imports, parameters) are only known at deploy time.
  const network = Stack.of(cfnService).resolve(cfnService.networkConfiguration) as unknown;
  if (isIntrinsic(network)) {
    return;
  }
  const awsvpc = (network as { awsvpcConfiguration?: unknown } | undefined)?.awsvpcConfiguration;
  if (isIntrinsic(awsvpc)) {
    return;
  }
  const assign = (awsvpc as { assignPublicIp?: unknown } | undefined)?.assignPublicIp;
  if (isIntrinsic(assign)) {
    return;
  }
  if (assign !== 'ENABLED') {
    throw new Error(`The ${where} does not assign public IPs to its tasks (assignPublicIp is ${assign ?? 'unset'}), `
      + 'so there is no address to publish: set assignPublicIp: true on the FargateService and place it in public subnets, '
      + 'or publish its IPv6 addresses only (ipAddressType: IpAddressType.IPV6).');
  }
}

/** The service name as the rule and the handler see it: the literal name when the service sets one. */
export function serviceNameOf(service: ecs.BaseService): string {
  const child = service.node.defaultChild as ecs.CfnService | undefined;
  const literal = child?.serviceName;
  return typeof literal === 'string' && !Token.isUnresolved(literal) ? literal : service.serviceName;
}

/**
 * Whether two values, typically ARNs, are the same: `true` or `false` when that can be told at synth
 * time, `undefined` when one of them is only known at deploy time.
 *
 * Concrete strings are compared as they are; two references to CloudFormation resources
 * (`Fn::GetAtt` / `Ref` of a logical id) are the same when they name the same resource attribute.
 * Anything else (imports, parameters, ARNs assembled from parts) cannot be compared.
 */
export function sameValue(stack: Stack, a: string, b: string): boolean | undefined {
  if (a === b) {
    return true;
  }
  const ra = stack.resolve(a);
  const rb = stack.resolve(b);
  if (typeof ra === 'string' && typeof rb === 'string') {
    return ra === rb;
  }
  if (isResourceReference(ra) && isResourceReference(rb)) {
    return JSON.stringify(ra) === JSON.stringify(rb);
  }
  return undefined;
}

function isResourceReference(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return false;
  }
  const keys = Object.keys(v);
  if (keys.length !== 1) {
    return false;
  }
  const value = (v as Record<string, unknown>)[keys[0]];
  if (keys[0] === 'Ref') {
    return typeof value === 'string' && !value.startsWith('AWS::');
  }
  return keys[0] === 'Fn::GetAtt' && Array.isArray(value) && value.every(x => typeof x === 'string');
}

/** Whether a resolved value is a CloudFormation intrinsic (`Ref`, `Fn::...`), i.e. only known at deploy time. */
function isIntrinsic(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return false;
  }
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

/**
 * Refuses, at synthesis (containers may be added after `addService`), a service published only when healthy
 * whose task definition has no container with a health check: ECS would never report its tasks HEALTHY, so
 * none would ever be published. The containers are read from the L1 task definition, as CloudFormation gets
 * them; a task definition whose containers are only known at deploy time (or not at all, an import) is not checked.
 */
export function healthCheckValidation(service: ecs.BaseService, where: string): IValidation {
  return {
    validate: () => {
      const taskDefinition = service.taskDefinition;
      const cfn = taskDefinition.node.defaultChild;
      if (!cfn || !CfnResource.isCfnResource(cfn) || cfn.cfnResourceType !== ecs.CfnTaskDefinition.CFN_RESOURCE_TYPE_NAME) {
        return [];
      }
      const containers: unknown = Stack.of(service).resolve((cfn as ecs.CfnTaskDefinition).containerDefinitions);
      if (!Array.isArray(containers) || containers.some(c => typeof c !== 'object' || c === null)) {
        return [];
      }
      if (containers.some(c => (c as { healthCheck?: unknown }).healthCheck !== undefined)) {
        return [];
      }
      return [`The ${where} is registered with publishWhenHealthy, but no container of its task definition `
        + `'${taskDefinition.node.path}' has a health check, so ECS would never report its tasks HEALTHY and none would be `
        + 'published: give the essential container a healthCheck (e.g. healthCheck: { command: [\'CMD-SHELL\', \'...\'] } in '
        + 'addContainer), or remove publishWhenHealthy.'];
    },
  };
}
