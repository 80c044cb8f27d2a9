import { benchAlertDelivery } from './alerts.js';
const r = await benchAlertDelivery({ issues: 20000, warmups: 1, runs: 4 });
console.log(r.cpu, r.wall);
