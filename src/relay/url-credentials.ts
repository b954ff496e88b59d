/**
 * Hook URLs may carry basic-auth credentials (`https://user:pass@host/path`), as GitHub
 * allows. The stored URL keeps them, since deliveries need them; deliveries send them as an
 * `Authorization: Basic` header, and everything the relay shows or records masks them:
 * `https://user:********@host/path` (a lone user name, often a token, as `********`).
 */
import { toBase64, utf8 } from "./crypto";

export const MASK = "********";

/** Where the user info of an absolute URL is: between `scheme://` and the authority's last `@`. */
function userInfo(url: string): { start: number; end: number } | null {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) return null;
  const start = scheme[0].length;
  const rest = url.slice(start);
  const authorityEnd = rest.search(/[/?#\\]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf("@");
  return at < 0 ? null : { start, end: start + at };
}

/** The URL as it may be shown: its password (or lone user name) replaced by `********`. */
export function maskUrl(url: string): string {
  const info = userInfo(url);
  if (!info) return url;
  const credentials = url.slice(info.start, info.end);
  const colon = credentials.indexOf(":");
  if (credentials === "" || colon === credentials.length - 1) return url; // `@` or `user:@`: nothing secret
  const shown = colon < 0 ? MASK : `${credentials.slice(0, colon)}:${MASK}`;
  return `${url.slice(0, info.start)}${shown}${url.slice(info.end)}`;
}

/**
 * A URL sent back as it was shown (`PATCH` with the config a `GET` returned) means the
 * stored one, credentials included; any other URL replaces it.
 */
export function keepCredentials(given: string, stored: string): string {
  return given !== stored && given === maskUrl(stored) ? stored : given;
}

const decode = (part: string) => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

/** What a delivery sends: the URL without its credentials, and them as a Basic Authorization header. */
export function splitCredentials(url: string): { url: string; authorization: string | null } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, authorization: null };
  }
  if (parsed.username === "" && parsed.password === "") return { url, authorization: null };
  const authorization = `Basic ${toBase64(utf8(`${decode(parsed.username)}:${decode(parsed.password)}`))}`;
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.toString(), authorization };
}

/** Text that may quote a URL (an error message) with the URL's credentials masked. */
export function redactCredentials(text: string, url: string): string {
  const info = userInfo(url);
  if (!info) return text;
  const credentials = url.slice(info.start, info.end);
  const colon = credentials.indexOf(":");
  const secrets = [colon < 0 ? credentials : credentials.slice(colon + 1)].filter((s) => s.length > 0);
  for (const secret of secrets) {
    text = text.split(secret).join(MASK);
    const decoded = decode(secret);
    if (decoded !== secret && decoded.length > 0) text = text.split(decoded).join(MASK);
  }
  return text;
}
