/**
 * Route53 health checks per task (`ServiceOptions.healthCheck`): the registration's settings, checked and
 * completed with their defaults; the owner value that tags the checks; the role's permissions for them.
 * The checks themselves are created and deleted by the handler at run time (src/lambda/health-checks.ts).
 */
import { CfnResource, Duration, Stack, Token, aws_ecs as ecs, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { checkPort, defaultContainerPort } from './container-port';
import { acknowledgeNagFindings } from './nag';
import { HealthCheckConfig } from '../shared/contract';

/** The settings of a task's health check, as `ServiceOptions.healthCheck` gives them (see the public struct). */
export interface HealthCheckInput {
  readonly type?: string;
  readonly port?: number;
  readonly path?: string;
  readonly interval?: Duration;
  readonly failureThreshold?: number;
}

/** Route53's HTTP(S) resource path: at most 255 characters. */
const MAX_PATH_LENGTH = 255;
/** The option's name in error messages. */
const OPTION = 'healthCheck';

/**
 * The registration's health check: the given settings checked (literals only: they are written into the
 * handler's configuration, measured at synthesis), the defaults filled in. Throws an error naming the value
 * and the fix.
 */
export function healthCheckConfig(service: ecs.BaseService, input: HealthCheckInput, where: string): HealthCheckConfig {
  const type = input.type ?? 'TCP';
  if (type !== 'TCP' && type !== 'HTTP' && type !== 'HTTPS') {
    throw new Error(`The ${OPTION}.type of the ${where} is ${JSON.stringify(type)}, which is not one of "TCP", "HTTP", "HTTPS": `
      + 'use TaskHealthCheckType.TCP, HTTP or HTTPS.');
  }
  const port = input.port === undefined ? defaultContainerPort(service, where, OPTION) : checkPort(input.port, where, OPTION);
  let path: string | undefined;
  if (input.path !== undefined) {
    if (type === 'TCP') {
      throw new Error(`The ${OPTION} of the ${where} is a TCP check, which requests no path, but path is ${JSON.stringify(input.path)}: `
        + 'remove the path, or use TaskHealthCheckType.HTTP or HTTPS.');
    }
    if (Token.isUnresolved(input.path) || !input.path.startsWith('/') || input.path.length > MAX_PATH_LENGTH || /\s/.test(input.path)) {
      throw new Error(`The ${OPTION}.path of the ${where} is ${Token.isUnresolved(input.path) ? 'only known at deploy time' : JSON.stringify(input.path)}, `
        + `but it must be a literal path starting with "/", without spaces, at most ${MAX_PATH_LENGTH} characters, e.g. '/health'.`);
    }
    path = input.path;
  }
  let intervalSeconds = 30;
  if (input.interval !== undefined) {
    const seconds = Token.isUnresolved(input.interval.toSeconds({ integral: false })) ? undefined : input.interval.toSeconds({ integral: false });
    if (seconds !== 10 && seconds !== 30) {
      throw new Error(`The ${OPTION}.interval of the ${where} is ${seconds === undefined ? 'only known at deploy time' : input.interval.toHumanString()}, `
        + 'but Route53 checks every 10 or 30 seconds only: use Duration.seconds(10) (fast interval, charged extra) or Duration.seconds(30).');
    }
    intervalSeconds = seconds;
  }
  const failureThreshold = input.failureThreshold ?? 3;
  if (Token.isUnresolved(failureThreshold) || !Number.isInteger(failureThreshold) || failureThreshold < 1 || failureThreshold > 10) {
    throw new Error(`The ${OPTION}.failureThreshold of the ${where} is ${Token.isUnresolved(failureThreshold) ? 'only known at deploy time' : failureThreshold}, `
      + 'but it must be a literal whole number from 1 to 10: the consecutive checks that must fail (or pass) to change the status, e.g. 3.');
  }
  return { type, port, ...(path !== undefined || type !== 'TCP' ? { path: path ?? '/' } : {}), intervalSeconds, failureThreshold };
}

/**
 * The value of the checks' owner tag: unique per account, region, stack and construct, since health checks are
 * global to the account, the same stack may be deployed in several regions, and the same app may be deployed
 * twice in one account and region under two stack names (the construct's address hashes its path only, which
 * both share). At most 12 + 1 + 25 + 1 + 128 + 1 + 42 characters, within Route53's 256 of a tag value; the
 * caller reference carries only its hash.
 */
export function healthCheckOwner(scope: Construct): string {
  const stack = Stack.of(scope);
  return `${stack.account}/${stack.region}/${stack.stackName}/${scope.node.addr}`;
}

/**
 * Grants the role what the handler does with health checks, in a policy of its own (`HealthChecks`, attached to
 * the role) rather than the role's default policy: the lifecycle resource depends on it, and when the last
 * `healthCheck` goes, CloudFormation deletes the removed policy only in its cleanup phase, after the lifecycle
 * resource's Update deleted the previous owner's checks with it (the default policy is updated in place, before).
 * CreateHealthCheck and ListHealthChecks have no resource-level permissions (the Service Authorization Reference
 * lists no resource type for them), so they take "*"; the others are limited to health checks (`healthcheck/*`:
 * their ids are chosen by Route53 at creation, so they cannot be named in advance; ChangeTagsForResource and
 * ListTagsForResources also accept hosted zones, which this leaves out).
 */
export function grantHealthChecks(scope: Construct, role: iam.Role): iam.Policy {
  const healthChecksArn = `arn:${Stack.of(role).partition}:route53:::healthcheck/*`;
  const policy = new iam.Policy(scope, 'HealthChecks', {
    roles: [role],
    statements: [new iam.PolicyStatement({
      sid: 'CreateAndListHealthChecks',
      actions: ['route53:CreateHealthCheck', 'route53:ListHealthChecks'],
      resources: ['*'],
    }), new iam.PolicyStatement({
      sid: 'TagAndDeleteHealthChecks',
      actions: ['route53:ChangeTagsForResource', 'route53:ListTagsForResources', 'route53:DeleteHealthCheck'],
      resources: [healthChecksArn],
    })],
  });
  acknowledgeNagFindings(policy.node.defaultChild as CfnResource, [{
    id: 'AwsSolutions-IAM5',
    reason: 'route53:CreateHealthCheck and route53:ListHealthChecks support no resource-level permissions: Resource "*" is '
      + 'the only one IAM accepts for them. The handler creates one health check per published task and lists them to '
      + 'delete the orphans of this construct (tagged with its owner).',
    appliesTo: ['Resource::*'],
  }, {
    id: 'AwsSolutions-IAM5',
    reason: 'Health check ids are chosen by Route53 when the handler creates a check, so DeleteHealthCheck, '
      + 'ChangeTagsForResource and ListTagsForResources can only name health checks by a wildcard; the handler deletes '
      + 'only checks tagged with this construct\'s owner.',
    appliesTo: [`Resource::${healthChecksArn}`],
  }]);
  return policy;
}
