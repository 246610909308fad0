/** The geo routing module: what the nameserver and `geocdn lookup` use. */
export { compileGeoRouting, openGeoip, type CompileOptions } from './compile.js';
export { planRouting, type GeoIssue, type RoutingPlan } from './plan.js';
export { describeDecision, describeLocation } from './director.js';
export {
  ALWAYS_AVAILABLE,
  type ClientAddress,
  type CompiledPop,
  type CompiledService,
  type GeoRouting,
  type PopAvailability,
  type RouteDecision,
} from './types.js';
