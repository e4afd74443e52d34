// main.ts's first import, so that it runs before the server's modules load (startup-memory.ts says why).
import { settleAfterStartup } from './startup-memory.ts';

settleAfterStartup();
