/** The authenticated client as the rate limiter and handlers need it (see host/auth). */
export interface RateLimitedClient {
  id: string;
  tier: string;
  lo: number;
  hi: number;
}

export type ClientVariables = {
  client: RateLimitedClient;
  /** LLM tokens reserved at admission, to settle against the real usage. */
  reservedTokens: number;
};
