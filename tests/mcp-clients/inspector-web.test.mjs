// The MCP Inspector's web UI (`@modelcontextprotocol/inspector`, pinned), used as a
// person would in Chromium: add the server by URL, switch it on, sign in and consent on
// this server's pages, then call the teacher's question from the Tools tab. Runs against
// LEARNER_BASE_URL (every host); screenshots go to artifacts/<host>/.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { launchChromium } from "./chromium.mjs";

const base = process.env.LEARNER_BASE_URL;
const password = process.env.LEARNER_DEMO_PASSWORD || "demo-password-for-tests";
const artifacts = join(import.meta.dirname, "artifacts", process.env.LEARNER_HOST_NAME || "host");
const launcher = join(
  import.meta.dirname,
  "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);

let browser;
let inspector;
let inspectorUrl;
let home;

// Every wait below is on a condition (a page, an element, a state); these bounds only
// end a test that can no longer pass. They are generous because a busy 2-core machine
// (a cold workerd compiling the worker, Chromium, the Inspector and its own web server
// at once) takes tens of seconds for what an idle one does in one.
const STEP_MS = 180_000;
const TEST_MS = 900_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts the Inspector on free ports with its own empty home; resolves to its URL (with its API token). */
async function startInspector() {
  home = mkdtempSync(join(tmpdir(), "mcp-inspector-"));
  const env = {
    ...process.env,
    HOME: home,
    MCP_STORAGE_DIR: home,
    CLIENT_PORT: String(await freePort()),
    MCP_SANDBOX_PORT: String(await freePort()),
    MCP_AUTO_OPEN_ENABLED: "false",
    MCP_INSPECTOR_SECRET_STORE: "memory",
  };
  // Its own process group, so the web server it starts ends with it.
  inspector = spawn(process.execPath, [launcher], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Inspector did not start:\n${printed}`)), STEP_MS);
    const read = (chunk) => {
      printed += chunk;
      const url = printed.match(/http:\/\/127\.0\.0\.1:\d+\?MCP_INSPECTOR_API_TOKEN=[0-9a-f]+/);
      if (url) {
        clearTimeout(timer);
        resolve(url[0]);
      }
    };
    inspector.stdout.on("data", read);
    inspector.stderr.on("data", read);
    inspector.once("exit", (code) => reject(new Error(`the Inspector exited (${code}):\n${printed}`)));
  });
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  inspectorUrl = await startInspector();
  browser = await launchChromium();
}, { timeout: 2 * STEP_MS });

/** Switches the server on: clicks its switch until it shows connecting or connected (a
 * click that lands while the page is still settling is lost, so the state decides,
 * not the click). */
async function switchOn(page, name) {
  const toggle = page.locator(`[aria-label="Connect or disconnect \\"${name}\\""]`);
  await toggle.waitFor({ state: "attached" });
  const deadline = Date.now() + STEP_MS;
  while (!(await toggle.isChecked())) {
    if (Date.now() > deadline) throw new Error(`the switch of ${name} never turned on`);
    if (await toggle.isEnabled()) await toggle.click({ force: true });
    // Wait for the click to show, or for the switch to become clickable again.
    await page
      .waitForFunction(
        (el) => el.checked || !el.disabled,
        await toggle.elementHandle(),
        { timeout: 5_000, polling: 100 },
      )
      .catch(() => {});
    if (!(await toggle.isChecked())) await page.waitForTimeout(250);
  }
}

after(async () => {
  await browser?.close();
  if (inspector?.pid) {
    try {
      process.kill(-inspector.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
  if (home) rmSync(home, { recursive: true, force: true });
});

test("the Inspector's web UI connects through sign-in and consent, lists the tools and calls one", { timeout: TEST_MS }, async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  await page.goto(inspectorUrl);

  // Add the server as the README says: Streamable HTTP, URL <base>/mcp.
  await page.click("text=Add Servers");
  await page.click("text=+ Add manually");
  await page.fill('input[placeholder="my-server"]', "learner-dna");
  await page.locator("[role=dialog] input.mantine-Select-input").click();
  await page.click("[role=option]:has-text('streamable-http')");
  await page.fill('input[placeholder="https://example.com/mcp"]', `${base}/mcp`);
  await page.click("[role=dialog] button:has-text('Add')");
  await page.waitForSelector("[role=dialog]", { state: "detached" });
  await switchOn(page, "learner-dna");

  // The Inspector sends the browser to this server's sign-in page.
  await page.waitForURL((url) => url.href.startsWith(`${base}/oauth/authorize?`));
  const asked = new URL(page.url()).searchParams.get("scope").split(" ");
  await page.fill("#username", "teacher");
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForSelector("text=Allow access to learner data?");
  // It asked for the scope the 401 suggested, and the page offers each, ticked.
  const suggested = ["learner.profile", "learner.behavioral", "learner.assessment", "learner.struggles", "class.aggregates"];
  assert.deepEqual(asked, suggested);
  for (const scope of suggested) {
    assert.equal(await page.isChecked(`input[name="grant:${scope}"]`), true, scope);
  }
  await page.screenshot({ path: join(artifacts, "inspector-consent.png"), fullPage: true });
  await page.click('button:has-text("Allow")');

  // Back in the Inspector, connected.
  await page.waitForURL((url) => url.origin === new URL(inspectorUrl).origin);
  await page.waitForSelector("text=Connected");

  // The tools the granted scope allows — no export or erasure — none of them with a
  // schema the Inspector flags as unportable. (Test builds list the conformance
  // fixtures too.)
  await page.locator('label[for$="-Tools"]').click();
  await page.waitForSelector("text=/Tools \\(\\d+\\)/");
  const tool = (name) => page.locator("button", { hasText: name });
  for (const name of ["get_learner_dna", "find_struggling_learners", "class_insights", "recommend_next_steps"]) {
    await tool(name).waitFor();
    assert.equal(await tool(name).locator('[aria-label^="Schema portability"]').count(), 0, name);
  }
  for (const name of ["export_learner_record", "erase_learner"]) {
    assert.equal(await tool(name).count(), 0, name);
  }

  // The teacher's question.
  await tool("find_struggling_learners").click();
  await page.getByRole("textbox", { name: "class" }).fill("demo-cls0");
  await page.getByRole("textbox", { name: "concept" }).fill("fractions");
  await page.click("button:has-text('Execute Tool')");
  await page.waitForSelector("text=/struggle with fractions in demo-cls0/");
  await page.screenshot({ path: join(artifacts, "inspector-tool-result.png") });
  await page.close();
});
