/**
 * Seeded initialisers matching the KerasHub/Keras defaults (spec §1.5, §3.9). Each variable draws from
 * its own stream, derived from (seed, variable path), so values do not depend on initialisation order.
 * The generator is xoshiro128** seeded through splitmix32: small, fast for 10⁸ draws, and reproducible
 * in every JS runtime (Math.random is not seedable).
 */
import type { Tensor } from "./tensor.js";
import { sizeOf } from "./tensor.js";

export type Initializer =
  | { kind: "zeros" }
  | { kind: "ones" }
  /** keras.initializers.TruncatedNormal: normal(0, stddev) redrawn outside ±2·stddev. */
  | { kind: "truncated_normal"; stddev: number }
  /** keras.initializers.GlorotUniform: U(±sqrt(6 / (fan_in + fan_out))). */
  | { kind: "glorot_uniform" }
  /** VarianceScaling(scale, mode="fan_in", distribution="untruncated_normal"). */
  | { kind: "variance_scaling_fan_in_normal"; scale: number }
  /** keras.initializers.HeUniform: U(±sqrt(6 / fan_in)). */
  | { kind: "he_uniform" };

/** Keras `compute_fans`. */
function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const receptive = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed: number, stream = "") {
    let x = (seed ^ hashString(stream)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() || 1;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result / 4294967296;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export function initializeTensor(shape: readonly number[], init: Initializer, seed: number, path: string): Tensor {
  const data = new Float32Array(sizeOf(shape));
  const rng = new Random(seed, path);
  const { fanIn, fanOut } = computeFans(shape);
  switch (init.kind) {
    case "zeros":
      break;
    case "ones":
      data.fill(1);
      break;
    case "truncated_normal":
      for (let i = 0; i < data.length; i++) {
        let z: number;
        do z = rng.normal();
        while (z < -2 || z > 2);
        data[i] = z * init.stddev;
      }
      break;
    case "variance_scaling_fan_in_normal": {
      const std = Math.sqrt(init.scale / fanIn);
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
      break;
    }
    case "glorot_uniform":
    case "he_uniform": {
      const limit = Math.sqrt(6 / (init.kind === "he_uniform" ? fanIn : fanIn + fanOut));
      for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * limit;
      break;
    }
  }
  return { dtype: "float32", shape: [...shape], data };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
