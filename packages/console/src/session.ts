/*
 * The API token, kept for this browser tab only (sessionStorage: gone when the tab closes, never sent anywhere but
 * in the Authorization header of the console's own API calls).
 */
const KEY = "omnidaemon.console.token";

export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the operator signs in again on each load
  }
}

export function storeToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives as long as the page
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
