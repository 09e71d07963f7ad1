// Health-checked announcements: the public surface of src/health.
//
//   servicesSchema / normalizeServices   the [[services]] config (zod), embedded by the daemon's config
//   createService(config, deps)          a Service (prefixes) or DiscoveryService (discover table)
//   Service events                       announce(prefixes, attrs) · withdraw(prefixes) · transition · check
//   toPathAttributes(attrs, localAsn)    AnnounceAttrs → wire PathAttributes
//   runCheck / runChecks                 the checks on their own (tsbgp service check, tests)

import type { ServiceConfig } from './config.ts';
import { DiscoveryService } from './discovery.ts';
import { type HealthService, Service, type ServiceDeps } from './service.ts';

export * from './checks.ts';
export * from './config.ts';
export * from './discovery.ts';
export * from './service.ts';
export * from './system.ts';
export * from './timer.ts';

export function createService(config: ServiceConfig, deps: ServiceDeps = {}): HealthService {
  return config.discover ? new DiscoveryService(config, deps) : new Service(config, deps);
}
