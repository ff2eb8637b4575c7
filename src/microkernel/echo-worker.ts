/**
 * The peer of `microlith bench ipc`: a domain with one channel end, served by
 * the echo server (echo.ts). With ring signalling the pump polls; the port keeps
 * this worker alive until the bench closes it.
 */
import { domainBoot } from '../harness/domain.js';
import { serveEcho, type EchoBoot } from './echo.js';

serveEcho(domainBoot<EchoBoot>());
