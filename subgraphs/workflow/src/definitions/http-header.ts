/** An HTTP header name (an RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

/** What fetch accepts as a header value: Latin-1 text without line breaks or NUL. */
export function isHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value) && !/[^\u0000-\u00ff]/.test(value);
}
