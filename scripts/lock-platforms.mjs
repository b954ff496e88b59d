// Keeps package-lock.json installable with `npm ci` everywhere. The registry these machines
// reach serves only Linux builds of platform packages (biome, workerd), so `npm install`
// leaves the other platforms' optional packages out of the lock file, and `npm ci` then
// refuses it as out of sync. This adds them back as optional entries with their os/cpu,
// so npm skips them on every other platform. Run it after changing dependencies:
//   npm install && node scripts/lock-platforms.mjs
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const packages = lock.packages;

function platformOf(name) {
  const tail = name.split("/").pop();
  const os = ["darwin", "linux", "win32", "android", "freebsd", "windows"].find((o) => tail.includes(o));
  const cpu =
    ["arm64", "x64", "ia32", "arm"].find((c) => tail.split("-").includes(c)) ?? (tail.endsWith("-64") ? "x64" : null);
  return {
    ...(os ? { os: [os === "windows" ? "win32" : os] } : {}),
    ...(cpu ? { cpu: [cpu] } : {}),
    ...(tail.includes("musl") ? { libc: ["musl"] } : {}),
  };
}

let added = 0;
/** Where Node would find `dep` from `path`: its own node_modules, then each ancestor's. */
function resolve(path, dep) {
  let dir = path;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ""}node_modules/${dep}`;
    if (packages[candidate]) return packages[candidate];
    if (!dir) return null;
    const cut = dir.lastIndexOf("/node_modules/");
    dir = cut >= 0 ? dir.slice(0, cut) : "";
  }
}

for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, wanted] of Object.entries(entry.optionalDependencies ?? {})) {
    // Platform packages pin exact versions; a range (fsevents' "~2.3.3") names its lowest match.
    const exact = /^\d/.test(wanted);
    const version = wanted.replace(/^[~^>=<\s]+/, "");
    const found = resolve(path, dep);
    if (found && (!exact || found.version === version)) continue;
    // Top level when free, else beside the package that needs this version.
    const target = packages[`node_modules/${dep}`] ? `${path}/node_modules/${dep}` : `node_modules/${dep}`;
    packages[target] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platformOf(dep),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} optional platform entries`);
