/** `.wasm` imports in the workerd test worker are CompiledWasm modules (a `WebAssembly.Module`). */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
