/** The authenticated client as the rate limiter and handlers need it (see host/auth). */
export interface RateLimitedClient {
  id: string;
  tier: string;
  lo: number;
  hi: number;
  /** Queue cloud-bound requests while the cloud is unreachable without being asked. */
  asyncWhenOffline: boolean;
}

export type ClientVariables = {
  client: RateLimitedClient;
  /** LLM tokens reserved at admission, to settle against the real usage. */
  reservedTokens: number;
};
