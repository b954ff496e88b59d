// Vite's `?raw` imports: a file's text, for tests that check what ships (wrangler.toml, README).
declare module "*?raw" {
  const text: string;
  export default text;
}
