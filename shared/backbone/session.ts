/** A backbone loaded into an onnxruntime session: validated batches in, hidden states out. */
import type { InferenceSession } from "onnxruntime-common";
import type { OnnxRuntime } from "../runtime/runtime.js";
import type { Tensor } from "../tensor/tensor.js";
import { checkBatch, type BatchLimits, type TokenBatch } from "./inputs.js";

export interface ForwardResult {
  /** [batch, sequence, hidden] float32. */
  sequenceOutput: Tensor;
  /** Present when the session was built with `hiddenStates: true`. */
  hiddenStates?: Tensor[];
}

export class BackboneSession {
  private constructor(
    readonly runtime: OnnxRuntime,
    private readonly session: InferenceSession,
    private readonly limits: BatchLimits,
  ) {}

  static async create(limits: BatchLimits, runtime: OnnxRuntime, model: Uint8Array): Promise<BackboneSession> {
    const session = await runtime.ort.InferenceSession.create(model, runtime.sessionOptions);
    return new BackboneSession(runtime, session, { vocabularySize: limits.vocabularySize, maxSequenceLength: limits.maxSequenceLength });
  }

  async forward(batch: TokenBatch): Promise<ForwardResult> {
    checkBatch(batch, this.limits);
    const { Tensor: OrtTensor } = this.runtime.ort;
    const shape = [batch.batchSize, batch.sequenceLength];
    const outputs = await this.session.run({
      token_ids: new OrtTensor("int32", batch.tokenIds, shape),
      padding_mask: new OrtTensor("int32", batch.paddingMask, shape),
    });
    const toTensor = (name: string): Tensor => {
      const value = outputs[name];
      return { dtype: "float32", shape: value.dims.map(Number), data: value.data as Float32Array };
    };
    const hiddenNames = this.session.outputNames.filter((n) => n.startsWith("hidden_states."));
    return {
      sequenceOutput: toTensor("sequence_output"),
      ...(hiddenNames.length ? { hiddenStates: hiddenNames.map(toTensor) } : {}),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
