/** Vite's `?url` imports (asset URLs emitted by the build). */
declare module '*?url' {
  const url: string;
  export default url;
}
