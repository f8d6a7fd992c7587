// The person at the browser, for the SDK tests: follows an authorization URL through the
// server's real sign-in and consent pages by form POST (as a browser submits them) and
// returns where the server finally redirects. Nothing here knows the server's internals
// beyond the pages' form fields; the browser run (issue 6's Playwright test) clicks the
// same forms.

/** The value of hidden input `name` in `html`. */
function hidden(html, name) {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!match) throw new Error(`no ${name} field in the page:\n${html.slice(0, 500)}`);
  return match[1];
}

/** The consent page's ticked checkboxes as `[name, value]` pairs, as a browser sends them. */
export function tickedBoxes(html) {
  return [...html.matchAll(/<input type="checkbox" name="([^"]*)" value="([^"]*)" checked>/g)].map((m) => [m[1], m[2]]);
}

async function post(url, fields, cookie) {
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  if (cookie) headers.cookie = cookie;
  return fetch(url, { method: "POST", headers, body: new URLSearchParams(fields), redirect: "manual" });
}

/**
 * Signs in as `username` and answers the consent page with `decision` ("approve" or
 * "deny"), leaving the boxes as the page ticks them; returns the redirect's URL (the
 * client's redirect URI with code or error).
 */
export async function authorize(authorizationUrl, { username, password, decision = "approve" }) {
  const url = new URL(authorizationUrl);
  const page = await fetch(url, { redirect: "manual" });
  if (page.status !== 200) throw new Error(`authorization page answered ${page.status}`);
  const signInPage = await page.text();
  const endpoint = `${url.origin}${url.pathname}`;
  const signedIn = await post(endpoint, {
    request_id: hidden(signInPage, "request_id"),
    csrf: hidden(signInPage, "csrf"),
    action: "sign_in",
    username,
    password,
  });
  const cookie = (signedIn.headers.get("set-cookie") || "").split(";")[0];
  if (!cookie) throw new Error(`sign-in failed (${signedIn.status}): ${await signedIn.text()}`);
  const consentPage = await signedIn.text();
  const answered = await post(
    endpoint,
    [
      ["request_id", hidden(consentPage, "request_id")],
      ["csrf", hidden(consentPage, "csrf")],
      ["action", decision],
      ...tickedBoxes(consentPage),
    ],
    cookie,
  );
  const location = answered.headers.get("location");
  if (answered.status !== 303 && answered.status !== 302) {
    throw new Error(`consent answered ${answered.status}: ${await answered.text()}`);
  }
  return new URL(location);
}
