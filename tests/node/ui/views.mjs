// The Instances, Resources and Models views against a daemon whose instance
// is the test sshd and whose cards fetch from the test HTTP server
// (tests/integration/web_ui_test.cpp, WebUiRemoteTest.Views): reachability;
// adding and removing an instance; Install Selected with two cards shows the
// install complete; the "Show Missing Models" toggle shows and hides the
// missing model; screenshots of the three views (light/dark, wide/narrow).
// Then, against a second daemon that wants a token: the page asks for it
// (again after a wrong one), and keeps it for the tab across a reload.
//   node views.mjs DAEMON_URL INSTANCE_ID SSH_COMMAND CARD_PATH_A CARD_PATH_B
//                  PRESENT_MODEL_ID MISSING_MODEL_ID TOKEN_DAEMON_URL TOKEN
import { run } from './browser.mjs';

const [, , , instanceId, sshCommand, cardA, cardB, presentModel, missingModel, tokenDaemon, token] =
  process.argv;

// Opens a view through its link in the navigation, as a user would.
async function open(ui, page, name) {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
  await ui.until(
    page,
    `the ${name} link marked current`,
    (name) =>
      [...document.querySelectorAll('nav[aria-label=Views] a[aria-current=page]')].map((a) =>
        a.textContent.trim(),
      ).join() === name,
    name,
  );
}

run('views', async (ui) => {
  const page = await ui.newPage();
  await page.goto(`${ui.daemon}/`);

  await ui.scenario('instances: reachability, add and remove', async () => {
    await open(ui, page, 'Instances');
    const row = page.locator(`[data-testid=instance-row][data-instance-id="${instanceId}"]`);
    await row.waitFor();
    const reach = row.locator('[data-field=reachability]');
    await ui.until(page, `instance ${instanceId} reachable`, (id) => {
      const el = document.querySelector(
        `[data-testid=instance-row][data-instance-id="${id}"] [data-field=reachability]`,
      );
      return el && el.dataset.reachable === 'true' && /^Reachable/.test(el.textContent.trim());
    }, instanceId);
    const text = (await reach.textContent()).trim();
    if (!/\d+\s*ms/.test(text)) throw new Error(`reachability says "${text}", without a latency`);
    await ui.screenshots(page, 'instances');

    // A second instance from a pasted ssh command, then removed again.
    await page.getByLabel('Name', { exact: true }).fill('spare');
    await page.getByLabel('SSH command', { exact: true }).fill(sshCommand);
    await page.getByRole('button', { name: 'Add instance', exact: true }).click();
    const spare = page.locator('[data-testid=instance-row][data-instance-id=spare]');
    await spare.waitFor();
    const listed = await ui.api('GET', '/api/v1/instances');
    if (!listed.instances.some((i) => i.id === 'spare'))
      throw new Error('the added instance is not in GET /api/v1/instances');
    await spare.getByRole('button', { name: 'Remove', exact: true }).click();
    // The row asks "Remove spare? Yes / No" in place.
    await spare.getByRole('group', { name: 'Remove spare?' }).getByRole('button', { name: 'Yes' }).click();
    await spare.waitFor({ state: 'detached' });
    await ui.untilNode('the instance gone from the API', async () => {
      const now = await ui.api('GET', '/api/v1/instances');
      return !now.instances.some((i) => i.id === 'spare');
    });
  });

  await ui.scenario('resources: Install Selected with two cards completes', async () => {
    await open(ui, page, 'Resources');
    const first = page.locator(`[data-testid=card][data-path="${cardA}"]`);
    const second = page.locator(`[data-testid=card][data-path="${cardB}"]`);
    await first.waitFor();
    await second.waitFor();
    // Cards are grouped under their folder's heading.
    const folder = cardA.split('/')[0];
    const heading = await first.evaluate((el) => el.closest('section')?.querySelector('h2')?.textContent);
    if (!heading || !heading.includes(folder))
      throw new Error(`card ${cardA} sits under heading "${heading}", not its folder "${folder}"`);
    const install = page.getByRole('button', { name: 'Install Selected', exact: true });
    await page.getByLabel('Instance', { exact: true }).selectOption(instanceId);
    if (await install.isEnabled()) throw new Error('"Install Selected" is enabled with no card chosen');
    await first.getByRole('checkbox').check();
    await second.getByRole('checkbox').check();
    await ui.until(page, '"Install Selected" enabled', () => {
      const button = [...document.querySelectorAll('button')].find(
        (b) => b.textContent.trim() === 'Install Selected',
      );
      return button && !button.disabled;
    });
    const names = [];
    for (const card of [first, second])
      names.push(await card.getByRole('checkbox').evaluate((box) => box.labels[0].textContent.trim()));
    await install.click();
    const rows = page.locator('[data-testid=install-job]');
    await rows.first().waitFor();
    const done = await ui.until(
      page,
      'every install job completed at 100 %',
      () => {
        const rows = [...document.querySelectorAll('[data-testid=install-job]')];
        if (rows.length === 0) return null;
        const all = rows.map((row) => ({
          id: row.dataset.jobId,
          state: row.dataset.state,
          percent: Number(row.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')),
          stage: row.querySelector('[data-field=stage]')?.textContent.trim() ?? null,
          text: row.textContent,
        }));
        return all.every((r) => r.state === 'completed' && r.percent === 100) ? all : null;
      },
      undefined,
      { timeout: 60000 },
    );
    for (const name of names)
      if (!done.some((row) => row.text.includes(name)))
        throw new Error(`no install row names the card "${name}"`);
    // The API agrees: the jobs are done, on the instance, and between them
    // ran the commands of both cards (the test checks the files they wrote).
    const items = [];
    for (const row of done) {
      const job = await ui.api('GET', `/api/v1/jobs/${row.id}`);
      if (job.state !== 'completed') throw new Error(`job ${row.id} is ${job.state} in the API`);
      if (job.target !== instanceId) throw new Error(`job ${row.id} ran on ${job.target}`);
      items.push(...job.items);
    }
    if (items.length !== 2 || !items.every((item) => item.state === 'completed'))
      throw new Error(`the install jobs hold ${JSON.stringify(items.map((i) => [i.name, i.state]))}`);
    await ui.screenshots(page, 'resources');
  });

  await ui.scenario('models: Show Missing Models shows and hides the missing one', async () => {
    await open(ui, page, 'Models');
    const toggle = page.getByLabel('Show Missing Models', { exact: true });
    await toggle.waitFor();
    if (await toggle.isChecked()) throw new Error('"Show Missing Models" is checked by default');
    const present = page.locator(`[data-testid=model-row][data-model-id="${presentModel}"]`);
    const missing = page.locator(`[data-testid=model-row][data-model-id="${missingModel}"]`);
    await present.waitFor();
    if ((await present.getAttribute('data-state')) !== 'present')
      throw new Error(`${presentModel} shows state ${await present.getAttribute('data-state')}`);
    // Hidden by default: not in the DOM, or not visible.
    await missing.waitFor({ state: 'hidden' });
    await toggle.check();
    await missing.waitFor({ state: 'visible' });
    if ((await missing.getAttribute('data-state')) !== 'missing')
      throw new Error(`${missingModel} shows state ${await missing.getAttribute('data-state')}`);
    if ((await missing.getByRole('button', { name: /^Download missing/ }).count()) !== 1)
      throw new Error(`the missing model has no "Download missing" button`);
    if ((await present.getByRole('button', { name: /^Download missing/ }).count()) !== 0)
      throw new Error(`the present model offers "Download missing"`);
    await page.getByRole('button', { name: 'Download all missing', exact: true }).waitFor();
    await ui.screenshots(page, 'models');
    await toggle.uncheck();
    await missing.waitFor({ state: 'hidden' });
    await present.waitFor({ state: 'visible' });
  });

  await ui.scenario('token: asked once, asked again when wrong, kept for the tab', async () => {
    // Chromium logs each 401 the page gets before it has the right token
    // (fetch, and the WebSocket's handshake).
    ui.allowConsole(/status of 401|WebSocket connection to .* failed: HTTP Authentication failed/);
    const tab = await ui.newPage();
    let refused = 0;
    tab.on('response', (response) => {
      if (response.status() === 401) refused += 1;
    });
    const dialogOpen = () => document.querySelector('[data-testid=token-dialog]')?.open === true;
    const live = () => document.querySelector('[data-testid=connection]')?.dataset.state === 'live';
    await tab.goto(`${tokenDaemon}/`);
    await ui.until(tab, 'the token dialog', dialogOpen);
    const dialog = tab.locator('[data-testid=token-dialog]');
    await dialog.getByLabel('Token', { exact: true }).fill('not-the-token');
    const before = refused;
    await dialog.getByRole('button', { name: 'Continue', exact: true }).click();
    await ui.untilNode('a 401 for the wrong token', async () => refused > before);
    await ui.until(tab, 'the token dialog asking again after a wrong token', dialogOpen);
    await dialog.getByLabel('Token', { exact: true }).fill(token);
    await dialog.getByRole('button', { name: 'Continue', exact: true }).click();
    await ui.until(tab, 'the page live with the token', () =>
      document.querySelector('[data-testid=connection]')?.dataset.state === 'live' &&
      document.querySelector('[data-testid=token-dialog]')?.open !== true,
    );
    // Kept for the tab: a reload asks nothing.
    const refusedBefore = refused;
    await tab.reload();
    await ui.until(tab, 'the reloaded page live', live);
    if (await tab.evaluate(dialogOpen)) throw new Error('the reloaded tab asked for the token again');
    if (refused !== refusedBefore) throw new Error(`the reloaded tab got ${refused - refusedBefore} 401s`);
    await tab.close();
  });
});
