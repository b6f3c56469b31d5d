/**
 * The demo presets `npm start` serves, generated (random weights, nothing downloaded): `writeDemoEncoder` is a
 * small DistilBERT-architecture model with a generated WordPiece tokenizer (runs in the isolate from its float
 * weights), `writeDemoDistilBertBase` the real DistilBERT-base architecture (66M parameters) with the same
 * tokenizer and its int8 edge artifact (runs in the isolate, quantized), `writeDemoGemma` a tiny Gemma (runs on
 * the runner). Tests that run the platform as users do use them too.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Backbone, DistilBertBackbone, GemmaBackbone, directoryFiles, loadTokenizer, saveTokenizer } from "../../shared/node/index.js";
import { camelKeys } from "../../shared/backbone/config.js";
import { writeEdgeArtifact } from "../../shared/node/edge-build.js";

/** A small English WordPiece vocabulary: specials, punctuation, digits, letters and their ## forms, common words. */
function demoVocabulary(): string[] {
  const words =
    "the of and to a in is it you that he was for on are with as i his they be at one have this from or had by hot word but what some we can out other were all there when up use your how said an each she which do their time if will way about many then them write would like so these her long make thing see him two has look more day could go come did number sound no most people my over know water than call first who may down side been now find any new work part take get place made live where after back little only round man year came show every good me give our under name very through just form sentence great think say help low line differ turn cause much mean before move right boy old too same tell does set three want air well also play small end put home read hand port large spell add even land here must big high such follow act why ask men change went light kind off need house picture try us again animal point mother world near build self earth father head stand own page should country found answer school grow study still learn plant cover food sun four between state keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late run while press close night real life few north open seem together next white children begin got walk example ease paper group always music those both mark often letter until mile river car feet care second book carry took science eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door product black short numeral class wind question happen complete ship area half rock order fire south problem piece told knew pass since top whole king space heard best hour better true during hundred five remember step early hold west ground interest reach fast verb sing listen six table travel less morning ten simple several vowel toward war lay against pattern slow center love person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty drive stood contain front teach week final gave green oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object decide surface deep moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring yes distant fill east paint language among brown fox jumps lazy hello edge model embedding vector token".split(
      " ",
    );
  const letters = "abcdefghijklmnopqrstuvwxyz0123456789".split("");
  const punctuation = ".,!?;:'\"()-[]{}/&%$#@*+=<>".split("");
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...punctuation, ...letters, ...letters.map((l) => `##${l}`)];
  for (const w of words) if (!vocab.includes(w)) vocab.push(w);
  for (const suffix of ["s", "ed", "ing", "er", "ly", "est", "ion", "es"]) vocab.push(`##${suffix}`);
  return vocab;
}

/** Writes an encoder preset with the demo WordPiece tokenizer (tokenizer.hf.json and KerasHub's files) into `dir`. */
async function writeEncoder(dir: string, backbone: Backbone): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "vocab.txt"), demoVocabulary().join("\n") + "\n");
  await backbone.saveToPreset(dir);
  const files = directoryFiles(dir);
  await saveTokenizer(await loadTokenizer(files), files);
  rmSync(join(dir, "vocab.txt"));
}

/** The small demo encoder: runs in the isolate from its float weights. */
export async function writeDemoEncoder(dir: string): Promise<void> {
  const vocabularySize = demoVocabulary().length;
  await writeEncoder(dir, new DistilBertBackbone({ vocabularySize, numLayers: 2, numHeads: 4, hiddenDim: 128, intermediateDim: 512, maxSequenceLength: 256, seed: 1 }));
}

/**
 * DistilBERT-base (distil_bert_base_en_uncased's architecture, random weights) with the demo tokenizer (its ids
 * are a subset of the 30,522-row vocabulary) and its int8 edge artifact, measured with the worker's code loaded.
 */
export async function writeDemoDistilBertBase(dir: string, log: (line: string) => void = () => {}): Promise<void> {
  const backbone = new DistilBertBackbone({ ...camelKeys(Backbone.presets.distil_bert_base_en_uncased.config), seed: 4 } as never);
  await writeEncoder(dir, backbone);
  const preload = [fileURLToPath(new URL("../app.ts", import.meta.url))];
  const { manifest } = await writeEdgeArtifact(backbone, dir, { plan: "int8", preload, log });
  if (!manifest) throw new Error("internal: the demo's int8 edge artifact was not kept");
}

/** Writes the demo Gemma preset (config and weights) into `dir`. */
export async function writeDemoGemma(dir: string): Promise<void> {
  const backbone = new GemmaBackbone({ vocabularySize: 256, numLayers: 2, numQueryHeads: 4, numKeyValueHeads: 1, hiddenDim: 64, intermediateDim: 128, headDim: 16, seed: 2 });
  mkdirSync(dir, { recursive: true });
  await backbone.saveToPreset(dir);
}
