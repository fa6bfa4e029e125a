/** The document itself and the caller: GET /api/v1/openapi.json and GET /api/v1/me. */
import { z } from 'zod';
import type { MeBody } from '@passant/shared';
import { MeSchema } from '@passant/shared/api-schemas';
import { roleOf } from '../../auth/access.ts';
import { ME_QUERY, NO_QUERY } from '../params.ts';
import type { RouteSpec } from './types.ts';

export const META_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'meta',
    auth: 'public',
    access: 'anyone',
    query: NO_QUERY,
    body: { kind: 'json', schema: z.record(z.string(), z.unknown()) },
    errors: [400],
    handle: (ctx) => (_req, res) => {
      res.type('application/json').send(ctx.openApiJson);
    },
  },
  {
    method: 'get',
    path: '/api/v1/me',
    operationId: 'getMe',
    summary: 'Who the caller is (role, token id and name) and which zones and sites it may read; with ?include=zones,sites also their lists',
    tag: 'meta',
    auth: 'public',
    access: 'anyone',
    query: ME_QUERY,
    body: { kind: 'json', schema: MeSchema },
    errors: [400, 401],
    handle: (ctx) => (req, res) => {
      const { access, registry } = ctx;
      const principal = ctx.principalOf(res);
      const body: MeBody = {
        role: roleOf(principal) ?? 'public',
        name: principal.kind === 'token' ? principal.token.name : null,
        tokenId: principal.kind === 'token' ? principal.token.id : null,
        zones: access.readsAllZones(principal) ? 'all' : ctx.readableZones(principal).map((z) => z.id),
        sites:
          access.public.sites === 'all' || access.isAdmin(principal)
            ? 'all'
            : registry
                .listSites()
                .filter((s) => access.canReadSite(principal, s.id))
                .map((s) => s.id),
        health: access.canSeeHealth(principal),
        audit: access.canSeeAudit(principal),
        admin: access.isAdmin(principal),
      };
      const include = (req.query as Record<string, string | undefined>).include?.split(',') ?? [];
      if (include.length > 0) {
        body.included = {
          ...(include.includes('zones') ? { zones: ctx.readableZones(principal) } : {}),
          ...(include.includes('sites') ? { sites: ctx.readableSites(principal) } : {}),
        };
      }
      res.json(body);
    },
  },
];
