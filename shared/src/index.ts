export * from './errors.js';
export * from './validators.js';
export * from './logger.js';
export * from './tls.js';
export * from './certs.js';
export * from './names.js';
export * from './proto.js';
