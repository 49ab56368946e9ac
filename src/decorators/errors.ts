export { MissingCustomerError, InvalidUsageError, describeValue as describe } from '../core/errors';
