import { afterAll, describe, expect, it } from 'vitest';
import { createScenario, type Scenario } from '../support/scenario.js';

describe('pem check on an empty run history', () => {
  let scenario: Scenario;
  afterAll(() => scenario?.cleanup());

  it('reports every due date missing and a scheduler issue', async () => {
    scenario = await createScenario({ dataset: 'nba_reference', processors: { a: {} } });
    const { code, json } = await scenario.check(['--json-output', '--date', '2025-10-07', '--now', '2025-10-08T12:00:00Z']);
    expect(code).toBe(0);
    expect(json.processors[0].missing_dates).toHaveLength(7);
    expect(json.processors[0].scheduler_issue).toBe(true);
    expect(json.level).toBe('CRITICAL');
  });
});
