/** The in-process bus passes the EventBus contract (one bus is both publisher and subscriber). */
import { eventBusContract } from './event-bus-contract.js';
import { InProcessEventBus } from './in-process-event-bus.js';

eventBusContract('in-process', async () => {
  const bus = new InProcessEventBus();
  return { publisher: bus, subscriber: bus, ready: async () => {}, close: () => bus.close() };
});
