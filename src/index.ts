export { EcsPublicDiscovery, IpAddressType } from './ecs-public-discovery';
export type { EcsPublicDiscoveryProps, ServiceOptions } from './ecs-public-discovery';
export { SrvProtocol } from './srv-record';
export type { SrvRecordOptions } from './srv-record';
