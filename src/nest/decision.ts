import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Decision } from '../core';
import { existingContextOf } from './request-context';

function decisionOf(featureId: unknown, executionContext: ExecutionContext): Decision | undefined {
  return existingContextOf(executionContext)?.decision(typeof featureId === 'string' ? featureId : undefined);
}

/**
 * Hands a route's handler the decision StiggGuard granted: `@EntitlementDecision() decision: Decision`
 * (the first feature the guard checked), or `@EntitlementDecision('feature-02-campaigns')` for one
 * feature of several. For a metered grant it carries `settle(units)`: report what the work actually
 * used instead of the reservation. Undefined when the guard granted nothing for the route (no
 * @RequireFeature, @SkipEntitlements(), or a requirement left to the method's wrapper because its
 * usage is a function of the arguments: the wrapper decides after the parameters are resolved).
 */
export const EntitlementDecision: (featureId?: string) => ParameterDecorator = createParamDecorator(decisionOf);
