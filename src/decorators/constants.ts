/** reflect-metadata keys under which the decorators record what they require. */
export const FEATURE_REQUIREMENTS_METADATA = 'stigg-gate:feature-requirements';
export const USAGE_REPORTS_METADATA = 'stigg-gate:usage-reports';
