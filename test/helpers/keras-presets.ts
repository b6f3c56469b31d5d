/**
 * KerasHub `model.weights.h5` presets written with the group/dataset paths spelled out as the spec gives them
 * (spec §2.6: class-name groups with per-class counters, `vars/<i>` by position), not with the reader's own
 * mapping: for the .h5 reader's tests and the Kaggle downloads'.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import { Backbone, toFloat32, type Tensor } from "../../shared/node/index.js";
import { GOLDEN_DIR, type GoldenModel } from "./golden.js";

const tmp = () => mkdtempSync(join(tmpdir(), "edgebone-kw-"));

/** Dataset path (spec §2.6) for each KerasHub variable path of the tiny golden models. */
export function gemmaLayout(layers: number, postNorms: boolean): Record<string, string> {
  const out: Record<string, string> = {
    "token_embedding/embeddings": "layers/reversible_embedding/vars/0",
    "final_normalization/scale": "layers/rms_normalization/vars/0",
  };
  for (let i = 0; i < layers; i++) {
    const g = `layers/gemma_decoder_block${i ? `_${i}` : ""}`;
    const b = `decoder_block_${i}`;
    Object.assign(out, {
      [`${b}/pre_attention_norm/scale`]: `${g}/pre_attention_norm/vars/0`,
      [`${b}/attention/query/kernel`]: `${g}/attention/query_dense/vars/0`,
      [`${b}/attention/key/kernel`]: `${g}/attention/key_dense/vars/0`,
      [`${b}/attention/value/kernel`]: `${g}/attention/value_dense/vars/0`,
      [`${b}/attention/attention_output/kernel`]: `${g}/attention/output_dense/vars/0`,
      [`${b}/pre_ffw_norm/scale`]: `${g}/pre_ffw_norm/vars/0`,
      [`${b}/ffw_gating/kernel`]: `${g}/gating_ffw/vars/0`,
      [`${b}/ffw_gating_2/kernel`]: `${g}/gating_ffw_2/vars/0`,
      [`${b}/ffw_linear/kernel`]: `${g}/ffw_linear/vars/0`,
      ...(postNorms ? { [`${b}/post_attention_norm/scale`]: `${g}/post_attention_norm/vars/0`, [`${b}/post_ffw_norm/scale`]: `${g}/post_ffw_norm/vars/0` } : {}),
    });
  }
  return out;
}

export function encoderLayout(embedding: string, layers: number, mha: "query_dense" | "_query_dense"): Record<string, string> {
  const out: Record<string, string> = {
    [`${embedding}/token_embedding/embeddings`]: "layers/token_and_position_embedding/token_embedding/vars/0",
    [`${embedding}/position_embedding/embeddings`]: "layers/token_and_position_embedding/position_embedding/vars/0",
    "embeddings_layer_norm/gamma": "layers/layer_normalization/vars/0",
    "embeddings_layer_norm/beta": "layers/layer_normalization/vars/1",
  };
  const dense = (p: string) => (mha === "query_dense" ? `${p}_dense` : `_${p}_dense`);
  for (let i = 0; i < layers; i++) {
    const g = `layers/transformer_encoder${i ? `_${i}` : ""}`;
    const l = `transformer_layer_${i}`;
    for (const [name, group] of [["query", dense("query")], ["key", dense("key")], ["value", dense("value")], ["attention_output", dense("output")]]) {
      out[`${l}/self_attention_layer/${name}/kernel`] = `${g}/_self_attention_layer/${group}/vars/0`;
      out[`${l}/self_attention_layer/${name}/bias`] = `${g}/_self_attention_layer/${group}/vars/1`;
    }
    for (const n of ["self_attention_layer_norm", "feedforward_layer_norm"]) {
      out[`${l}/${n}/gamma`] = `${g}/_${n}/vars/0`;
      out[`${l}/${n}/beta`] = `${g}/_${n}/vars/1`;
    }
    for (const n of ["feedforward_intermediate_dense", "feedforward_output_dense"]) {
      out[`${l}/${n}/kernel`] = `${g}/_${n}/vars/0`;
      out[`${l}/${n}/bias`] = `${g}/_${n}/vars/1`;
    }
  }
  return out;
}

/** A KerasHub preset dir of a golden model: config.json, metadata.json and model.weights.h5 (no safetensors). */
export async function writeKerasPreset(model: GoldenModel, layout: Record<string, string>, prefix = ""): Promise<string> {
  const source = await Backbone.fromPreset(`${GOLDEN_DIR}${model}`);
  const dir = tmp();
  await source.saveToPreset(dir);
  rmSync(join(dir, "model.safetensors")); // the weights come from the .h5 only
  await h5wasm.ready;
  const file = new h5wasm.File(join(dir, "model.weights.h5"), "w");
  const ensure = (path: string) => {
    let at = "";
    for (const part of path.split("/")) {
      at = at ? `${at}/${part}` : part;
      if (!file.get(at)) file.create_group(at);
    }
  };
  ensure(`${prefix}layers/input_layer/vars`); // layers without variables still get (empty) groups
  for (const [variable, path] of Object.entries(layout)) {
    const t: Tensor = source.weight(variable);
    const full = prefix + path;
    ensure(full.slice(0, full.lastIndexOf("/")));
    const data = toFloat32(t);
    file.create_dataset({ name: full, data, shape: [...t.shape], dtype: "<f" });
  }
  file.close();
  return dir;
}
