/** Where alert state and silences live: beside the run history, in the registry's dataset. */
import type { Registry } from '../config/registry.js';

export const ALERT_STATE_TABLE = 'pem_alert_state';
export const ALERT_SILENCES_TABLE = 'pem_alert_silences';

export const alertStateTable = (registry: Pick<Registry, 'dataset'>): string => `${registry.dataset}.${ALERT_STATE_TABLE}`;
export const alertSilencesTable = (registry: Pick<Registry, 'dataset'>): string => `${registry.dataset}.${ALERT_SILENCES_TABLE}`;
