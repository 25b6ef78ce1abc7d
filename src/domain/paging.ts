/** `/halo events` pages: shared by the command parser and the Next page button's codec. */
export const EVENTS_PAGE = {
  /** Rows a page shows when `limit:` is not given, and the most it may ask for. */
  defaultSize: 20,
  maxSize: 20,
  /** A page number beyond this is a forged or broken button, not a real list. */
  maxPage: 10_000,
} as const;
