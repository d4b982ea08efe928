/**
 * The port a service's tasks listen on, as the task definition says: what an SRV record advertises and a
 * health check probes when no port is given. Read when the service is registered.
 */
import { Token, aws_ecs as ecs } from 'aws-cdk-lib';

/**
 * The container port of the first port mapping of the task definition's default container (its first
 * essential container). In the awsvpc network mode the task listens on the container port itself.
 * Throws, naming the option to set, when there is none or it is only known at deploy time.
 */
export function defaultContainerPort(service: ecs.BaseService, where: string, option: string): number {
  const taskDefinition = service.taskDefinition;
  const container = taskDefinition.defaultContainer;
  const mapping = container?.portMappings[0];
  if (!container || !mapping) {
    throw new Error(`The ${option} of the ${where} takes its port from the task definition '${taskDefinition.node.path}', `
      + `but ${container ? `its default container '${container.containerName}' has no port mapping` : 'it has no container yet'}: `
      + `give the port explicitly (${option}.port), or add the container with its portMappings before calling addService().`);
  }
  const port = mapping.containerPort;
  if (Token.isUnresolved(port)) {
    throw new Error(`The ${option} of the ${where} takes its port from the container '${container.containerName}', whose containerPort `
      + `is only known at deploy time: give the port explicitly (${option}.port).`);
  }
  return port;
}

/**
 * Checks an explicit port: a whole number in 1..65535. Ports only known at deploy time are refused, since the
 * port is written into the handler's configuration, which is measured at synthesis.
 */
export function checkPort(port: number, where: string, option: string): number {
  if (Token.isUnresolved(port) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`The ${option}.port of the ${where} is ${Token.isUnresolved(port) ? 'only known at deploy time' : port}, `
      + 'but it must be a literal whole number in 1..65535: give the port the tasks listen on, e.g. 25565.');
  }
  return port;
}
