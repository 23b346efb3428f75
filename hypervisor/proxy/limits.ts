/** What one proxied exchange may cost; each breach gets its own clear answer. */
export interface ProxyLimits {
  /** Request bodies above this are refused with 413. */
  maxRequestBodyBytes: number;
  /** Responses above this are refused with 502 (before headers) or cut off (while streaming). */
  maxResponseBodyBytes: number;
  /** Time for the sandbox to send response headers; then 504. */
  responseHeadersTimeoutMs: number;
  /** Longest silence inside a response body; then the response is cut off. Long for SSE streams. */
  responseIdleTimeoutMs: number;
  /** Time for the sandbox to accept a WebSocket; then 504. */
  webSocketHandshakeTimeoutMs: number;
  /** Largest WebSocket message relayed in either direction (close code 1009 above it). */
  maxWebSocketMessageBytes: number;
  /** Open relayed WebSockets per user (both sandboxes); the next is accepted and closed with 1008. */
  maxWebSocketsPerUser: number;
  /** Open relayed WebSockets in all; the next is accepted and closed with 1013. */
  maxWebSockets: number;
}

export const defaultProxyLimits: ProxyLimits = {
  maxRequestBodyBytes: 32 * 1024 * 1024,
  maxResponseBodyBytes: 512 * 1024 * 1024,
  responseHeadersTimeoutMs: 60_000,
  responseIdleTimeoutMs: 300_000,
  webSocketHandshakeTimeoutMs: 10_000,
  maxWebSocketMessageBytes: 16 * 1024 * 1024,
  maxWebSocketsPerUser: 64,
  maxWebSockets: 10_000,
};
