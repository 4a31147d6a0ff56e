// Who a request acts as, once its API key is checked.

/** normal: its own tenant only; admin: any tenant, and the admin endpoints. */
export type Role = 'normal' | 'admin';

export interface Principal {
  /** 'open' when the router has no API keys (development): anyone, any tenant. */
  role: Role | 'open';
  /** The key's tenant; '' for 'open'. */
  tenant: string;
  /** The key's name for logs, never the key. */
  name: string;
}

/** Everyone, when no API keys are configured. */
export const OPEN: Principal = { role: 'open', tenant: '', name: 'no API keys' };
