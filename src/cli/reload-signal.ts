import type { Logger } from '../core/log.js';

/**
 * Takes SIGHUP from the moment it is called. node's default for SIGHUP is to exit, and
 * systemd's Restart=on-failure does not restart a process SIGHUP ended: an early
 * `systemctl reload` would leave the server down. A SIGHUP that comes while the server
 * starts is logged and carried out once `ready` gives the reload to run.
 */
export function takeReloadSignal(log: Logger, what: string): { ready(reload: () => void): void } {
  let asked = false;
  let onSignal = (): void => {
    if (!asked) log.info(`SIGHUP while starting: ${what} read again once started`);
    asked = true;
  };
  process.on('SIGHUP', () => onSignal());
  return {
    ready(reload) {
      onSignal = reload;
      if (asked) reload();
    },
  };
}
