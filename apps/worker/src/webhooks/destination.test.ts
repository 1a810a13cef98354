import type { LookupAddress } from "node:dns";
import { pinnedLookup, resolveDestination, type WebhookLookup } from "./destination";

const lookupTo =
  (...addresses: LookupAddress[]): WebhookLookup =>
  () =>
    Promise.resolve(addresses);

describe("resolveDestination", () => {
  it("refuses schemes other than http and https", async () => {
    const result = await resolveDestination("ftp://example.com/x", {
      allowPrivateAddresses: true,
      lookup: lookupTo(),
    });
    expect(result).toEqual({
      ok: false,
      code: "refused",
      error: "webhook ftp://example.com/x refused: only http and https are allowed",
    });
  });

  it("refuses an unparseable URL", async () => {
    const result = await resolveDestination("not a url", {
      allowPrivateAddresses: false,
      lookup: lookupTo(),
    });
    expect(result).toMatchObject({ ok: false, code: "invalid_url" });
  });

  it("refuses a host if any of its addresses is unsafe, and never shows credentials or the query", async () => {
    const lookup = lookupTo({ address: "93.184.215.14", family: 4 }, { address: "fd00::5", family: 6 });
    const result = await resolveDestination("https://user:pw@hooks.example/in?token=abc", {
      allowPrivateAddresses: false,
      lookup,
    });
    expect(result).toEqual({
      ok: false,
      code: "refused",
      error:
        "webhook https://hooks.example/in refused: hooks.example resolves to fd00::5, a private address; " +
        "set OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE=true to allow",
    });
  });

  it("accepts a public host and pins the connection to the addresses it validated", async () => {
    const result = await resolveDestination("https://hooks.example/in", {
      allowPrivateAddresses: false,
      lookup: lookupTo({ address: "93.184.215.14", family: 4 }),
    });
    expect(result.ok).toBe(true);
    expect(result.ok && result.lookup).toEqual(expect.any(Function));
  });

  it("propagates DNS failures so the caller retries them", async () => {
    const lookup: WebhookLookup = () => Promise.reject(new Error("getaddrinfo ENOTFOUND nowhere.example"));
    await expect(
      resolveDestination("http://nowhere.example/", { allowPrivateAddresses: false, lookup }),
    ).rejects.toThrow("ENOTFOUND");
  });
});

describe("pinnedLookup", () => {
  const lookup = pinnedLookup([
    { address: "93.184.215.14", family: 4 },
    { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 },
  ]);

  function call(options: Parameters<typeof lookup>[1]): Promise<unknown[]> {
    return new Promise((resolve) => lookup("hooks.example", options, (...args) => resolve(args)));
  }

  it("answers single and all-address lookups, filtered by family", async () => {
    expect(await call({})).toEqual([null, "93.184.215.14", 4]);
    expect(await call({ family: 6 })).toEqual([null, "2606:2800:21f:cb07:6820:80da:af6b:8b2c", 6]);
    expect(await call({ all: true, family: 4 })).toEqual([null, [{ address: "93.184.215.14", family: 4 }]]);
  });

  it("fails with ENOTFOUND when no validated address has the family asked for", async () => {
    const only4 = pinnedLookup([{ address: "93.184.215.14", family: 4 }]);
    const [error] = await new Promise<unknown[]>((resolve) =>
      only4("hooks.example", { family: 6 }, (...args) => resolve(args)),
    );
    expect(error).toMatchObject({ code: "ENOTFOUND" });
  });
});
