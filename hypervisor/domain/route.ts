/** The two routes a user has: `main` (the default, normally the live sandbox) and `dev` (/dev/...). */
export const routes = ['main', 'dev'] as const;
export type Route = (typeof routes)[number];
