// The sign-in and consent pages in a real browser: Debian's Chromium (/usr/bin/chromium,
// installed by `just browser-tools`), driven by Playwright's core — never a downloaded
// browser. Signs in, reads the consent screen, approves and denies, and meets the error
// page, at a narrow and a wide viewport; screenshots go to artifacts/<host>/ for review.
// Runs against LEARNER_BASE_URL (every host).

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { launchChromium } from "./chromium.mjs";

const base = process.env.LEARNER_BASE_URL;
const password = process.env.LEARNER_DEMO_PASSWORD || "demo-password-for-tests";
const REDIRECT = "http://127.0.0.1:9/callback";
const artifacts = join(import.meta.dirname, "artifacts", process.env.LEARNER_HOST_NAME || "host");
const VIEWPORTS = { narrow: { width: 390, height: 844 }, wide: { width: 1280, height: 900 } };

let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** A registered public client and a fresh authorization URL for it (PKCE S256). */
async function authorizationUrl({ redirectUri = REDIRECT } = {}) {
  const registered = await fetch(`${base}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Browser test assistant",
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "none",
    }),
  }).then((r) => r.json());
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(8).toString("hex");
  const url = new URL(`${base}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: registered.client_id,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    scope: "learner.profile learner.struggles class.aggregates identity",
    resource: `${base}/mcp`,
  }).toString();
  return { url, state, clientId: registered.client_id, verifier };
}

/**
 * Opens the authorization URL at `viewport`, signs in, lets `choose` change the boxes,
 * answers the consent page with `button` ("Allow" or "Deny"), and returns the URL the
 * browser was sent back to (the client's redirect URI is answered here: nothing listens
 * there).
 */
async function consent(viewport, button, choose = async () => {}) {
  const { url, state, clientId, verifier } = await authorizationUrl();
  const page = await browser.newPage({ viewport: VIEWPORTS[viewport] });
  const returned = new Promise((resolve) =>
    page.route(`${REDIRECT}**`, (route) => {
      resolve(new URL(route.request().url()));
      return route.fulfill({ status: 200, contentType: "text/plain", body: "back at the client" });
    }),
  );
  await page.goto(url.toString());
  assert.equal(await page.locator("h1").textContent(), "Sign in to Learner DNA");
  await page.screenshot({ path: join(artifacts, `sign-in-${viewport}.png`), fullPage: true });
  await page.fill("#username", "teacher");
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForSelector("text=Allow access to learner data?");
  const text = await page.locator("body").innerText();
  assert.match(text, /Browser test assistant/, "the consent page names the client");
  assert.match(text, /concepts a learner struggles with/, "and says what each scope reads");
  assert.match(text, /class-level summaries/);
  assert.match(text, /Names are allowed only if you tick them\./);
  // The learning data starts ticked; names start unticked.
  for (const scope of ["learner.profile", "learner.struggles", "class.aggregates"]) {
    assert.equal(await page.isChecked(`input[name="grant:${scope}"]`), true, scope);
  }
  assert.equal(await page.isChecked('input[name="grant:identity"]'), false);
  await page.screenshot({ path: join(artifacts, `consent-${viewport}.png`), fullPage: true });
  await choose(page);
  await page.click(`button:has-text("${button}")`);
  const back = await returned;
  await page.close();
  assert.equal(back.searchParams.get("state"), state);
  assert.equal(back.searchParams.get("iss"), base);
  return { back, clientId, verifier };
}

for (const viewport of Object.keys(VIEWPORTS)) {
  test(`${viewport}: sign in, read the consent screen, untick one, approve, and the code buys a token for the rest`, async () => {
    // The person unticks class summaries by clicking its text (the label holds the box).
    const untickSummaries = (page) => page.click("text=class-level summaries");
    const { back, clientId, verifier } = await consent(viewport, "Allow", untickSummaries);
    const code = back.searchParams.get("code");
    assert.ok(code, String(back));
    const tokens = await fetch(`${base}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier,
      }),
    }).then((r) => r.json());
    assert.equal(tokens.scope, "learner.profile learner.struggles");
    assert.ok(tokens.access_token);
  });

  test(`${viewport}: denying sends access_denied back`, async () => {
    const { back } = await consent(viewport, "Deny");
    assert.equal(back.searchParams.get("error"), "access_denied");
    assert.equal(back.searchParams.get("code"), null);
  });

  test(`${viewport}: a request that cannot continue shows the error page, never a redirect`, async () => {
    const { url } = await authorizationUrl({ redirectUri: "http://127.0.0.1:9/elsewhere" });
    const page = await browser.newPage({ viewport: VIEWPORTS[viewport] });
    const response = await page.goto(url.toString());
    assert.equal(response.status(), 400);
    assert.equal(await page.locator("h1").textContent(), "This sign-in request cannot continue");
    assert.equal(new URL(page.url()).origin, new URL(base).origin, "stayed on the server");
    await page.screenshot({ path: join(artifacts, `error-${viewport}.png`), fullPage: true });
    await page.close();
  });
}
