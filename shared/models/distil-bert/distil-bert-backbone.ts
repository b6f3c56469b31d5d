/** DistilBERT (KerasHub `DistilBertBackbone`, spec §4): the shared post-LN encoder with LayerNorm eps 1e-12. */
import { EncoderBackbone, type EncoderArgs } from "../encoder/encoder-backbone.js";

export class DistilBertBackbone extends EncoderBackbone {
  static override readonly className: string = "DistilBertBackbone";
  static override readonly module: string = "keras_hub.src.models.distil_bert.distil_bert_backbone";
  protected readonly embeddingName = "token_and_position_embedding";
  readonly layerNormEpsilon = 1e-12;

  constructor(args: EncoderArgs) {
    super(args, "distil_bert_backbone");
  }

  protected hfAttentionModule(layer: number, projection: "query" | "value"): string {
    return `transformer.layer.${layer}.attention.${projection === "query" ? "q_lin" : "v_lin"}`;
  }
}
