// Debian's Chromium (/usr/bin/chromium, installed by `just browser-tools`) under
// Playwright's core — never a downloaded browser — headless and quiet (no background
// traffic to anywhere), for the tests that drive web pages.

import { chromium } from "playwright-core";

/** Launches the browser. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}
