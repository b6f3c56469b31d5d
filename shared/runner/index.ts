/**
 * The edge ↔ GPU runner contract, runtime-agnostic (workerd and Node): request schema, HMAC signatures, the
 * binary tensor response, the object-store layout, and the pool client the edge routes with.
 */
export * from "./protocol.js";
export * from "./signing.js";
export * from "./tensor-wire.js";
export * from "./layout.js";
export * from "./pool.js";
export * from "./discovery.js";
