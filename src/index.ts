export { EcsPublicDiscovery, IpAddressType } from './ecs-public-discovery';
export type { EcsPublicDiscoveryProps, ServiceOptions } from './ecs-public-discovery';
