export { EcsPublicDiscovery, IpAddressType, TaskHealthCheckType } from './ecs-public-discovery';
export type { EcsPublicDiscoveryProps, ServiceOptions, TaskHealthCheckOptions } from './ecs-public-discovery';
