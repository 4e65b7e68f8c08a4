// mpp-gateway/hono: charge for a Hono app's own routes in-process, from the sidecar's config.
export { type MppGateway, type MppGatewayOptions, mppGateway } from './middleware.js'
