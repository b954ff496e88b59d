// Reading wrangler-style command lines: `--flag value`, `--flag=value`, `--no-flag`, and
// yargs' camelCase spelling (`--persistTo`). Everything after a bare `--` is positional.

/** The spellings yargs accepts for `flag` (`--persist-to` also as `--persistTo`). */
function spellings(flag) {
  const camel = flag.replace(/-([a-z])/g, (_, letter, offset) => (offset < 2 ? `-${letter}` : letter.toUpperCase()));
  return camel === flag ? [flag] : [flag, camel];
}

/** The part of `args` that may hold flags (up to a bare `--`). */
function flagPart(args) {
  const end = args.indexOf("--");
  return end < 0 ? args : args.slice(0, end);
}

/** Whether `args` give `flag` in any form: `--flag`, `--flag value`, `--flag=value`, `--no-flag`. */
export function hasFlag(args, flag) {
  const names = spellings(flag);
  const negated = flag.startsWith("--") ? spellings(`--no-${flag.slice(2)}`) : [];
  return flagPart(args).some(
    (arg) => names.includes(arg) || negated.includes(arg) || names.some((name) => arg.startsWith(`${name}=`)),
  );
}

/** The value of the last `--flag value` / `--flag=value` in `args`, or undefined. */
export function flagValue(args, flag) {
  const names = spellings(flag);
  const part = flagPart(args);
  let value;
  for (let i = 0; i < part.length; i++) {
    const arg = part[i];
    const name = names.find((n) => arg.startsWith(`${n}=`));
    if (name) value = arg.slice(name.length + 1);
    else if (names.includes(arg) && i + 1 < part.length) value = part[++i];
  }
  return value;
}

/**
 * The occurrences of the given value-taking flags in `args`, with their values, in order:
 * `pickFlags(["--env", "staging", "--port", "1"], ["--env"])` is `["--env", "staging"]`.
 */
export function pickFlags(args, flags) {
  const names = flags.flatMap(spellings);
  const part = flagPart(args);
  const picked = [];
  for (let i = 0; i < part.length; i++) {
    const arg = part[i];
    if (names.some((name) => arg.startsWith(`${name}=`))) picked.push(arg);
    else if (names.includes(arg) && i + 1 < part.length) picked.push(arg, part[++i]);
  }
  return picked;
}
