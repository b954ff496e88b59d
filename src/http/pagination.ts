/** GitHub-style pagination: `page` / `per_page` (30 by default, at most 100) and a Link header. */
export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

export interface Page {
  page: number;
  perPage: number;
  limit: number;
  offset: number;
}

function positiveInt(raw: unknown, fallback: number): number {
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Reads page and per_page; like GitHub, silly values fall back and per_page is clamped. */
export function readPage(query: Record<string, unknown>): Page {
  const page = positiveInt(query.page, 1);
  const perPage = Math.min(positiveInt(query.per_page, DEFAULT_PER_PAGE), MAX_PER_PAGE);
  return { page, perPage, limit: perPage, offset: (page - 1) * perPage };
}

function pageUrl(url: URL, page: number, perPage: number): string {
  const target = new URL(url);
  target.searchParams.set("page", String(page));
  target.searchParams.set("per_page", String(perPage));
  return target.toString();
}

/** GitHub's Link header: next and last, plus first and prev after page 1. Null for a single page. */
export function linkHeader(url: URL, page: Page, total: number): string | null {
  const last = Math.max(1, Math.ceil(total / page.perPage));
  const links: string[] = [];
  if (page.page < last) {
    links.push(`<${pageUrl(url, page.page + 1, page.perPage)}>; rel="next"`);
    links.push(`<${pageUrl(url, last, page.perPage)}>; rel="last"`);
  }
  if (page.page > 1) {
    links.push(`<${pageUrl(url, 1, page.perPage)}>; rel="first"`);
    links.push(`<${pageUrl(url, Math.min(page.page - 1, last), page.perPage)}>; rel="prev"`);
  }
  return links.length > 0 ? links.join(", ") : null;
}

/** A JSON list response with its Link header when there is more than one page. */
export function pagedJson(url: URL, page: Page, total: number, items: unknown[]): Response {
  const link = linkHeader(url, page, total);
  return Response.json(items, { headers: link ? { link } : {} });
}
