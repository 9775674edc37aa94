// Styles live inside the widget's shadow root: the host page's CSS cannot reach in, ours cannot leak out.
export function styles(colors) {
  return `
:host { all: initial; }
* { box-sizing: border-box; }
.root { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; }
button { font: inherit; cursor: pointer; }
.launcher { position: relative; width: 60px; height: 60px; border-radius: 50%; border: none;
  background: ${colors.primary}; color: ${colors.onPrimary}; box-shadow: 0 4px 14px rgba(0,0,0,.25);
  font-size: 14px; font-weight: 600; }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible, a:focus-visible {
  outline: 3px solid ${colors.focus}; outline-offset: 2px; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #b00020; color: #fff; font-size: 12px; line-height: 22px; text-align: center; }
.badge[hidden] { display: none; }
.panel { position: absolute; right: 0; bottom: 76px; width: min(380px, calc(100vw - 40px));
  height: min(560px, calc(100vh - 120px)); display: flex; flex-direction: column; background: #fff;
  border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); overflow: hidden; }
.panel[hidden] { display: none; }
.header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: ${colors.primary};
  color: ${colors.onPrimary}; }
.header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; }
.status { font-size: 12px; }
.close { border: none; background: transparent; color: inherit; font-size: 22px; line-height: 1; padding: 2px 8px; }
.queue { padding: 6px 14px; background: #fff4d6; color: #4a3500; font-size: 13px; border-bottom: 1px solid #e8d9a8; }
.queue[hidden] { display: none; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f6f7f9; }
.msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg .who { display: block; font-size: 12px; font-weight: 600; color: #3d3d3d; margin-bottom: 2px; }
.msg time { display: block; font-size: 11px; color: #4d4d4d; margin-top: 3px; }
.bot, .agent { align-self: flex-start; background: #fff; border: 1px solid #dcdfe4; }
.agent { border-color: ${colors.primary}; }
.customer { align-self: flex-end; background: ${colors.customer}; color: ${colors.onCustomer}; }
.customer time { color: inherit; opacity: .9; }
.customer a { color: inherit; }
.system { align-self: center; font-size: 12px; color: #3d3d3d; background: #e9ebef; border-radius: 10px; padding: 3px 10px; }
.pending { opacity: .7; }
.replies { display: flex; flex-wrap: wrap; gap: 6px; align-self: flex-start; }
.reply { border: 1px solid ${colors.primary}; color: ${colors.primary}; background: #fff; border-radius: 16px; padding: 5px 12px; }
.typing { padding: 2px 14px 4px; font-size: 13px; color: #3d3d3d; background: #f6f7f9; }
.typing[hidden] { display: none; }
.dots span { display: inline-block; width: 6px; height: 6px; margin: 0 1px; border-radius: 50%; background: #666;
  animation: blink 1.2s infinite both; }
.dots span:nth-child(2) { animation-delay: .2s; } .dots span:nth-child(3) { animation-delay: .4s; }
@keyframes blink { 0%, 80%, 100% { opacity: .2; } 40% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .dots span { animation: none; } }
.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #dcdfe4; background: #fff; }
.composer textarea { flex: 1; resize: none; overflow-y: auto; scrollbar-width: none; height: 40px; padding: 9px 10px; border: 1px solid #767676; border-radius: 8px; font: inherit; }
.send { border: none; border-radius: 8px; padding: 0 16px; background: ${colors.primary}; color: ${colors.onPrimary}; font-weight: 600; }
.rating { align-self: stretch; background: #fff; border: 1px solid #dcdfe4; border-radius: 12px; padding: 10px; }
.rating fieldset { border: none; margin: 0; padding: 0; }
.rating legend { font-weight: 600; margin-bottom: 6px; }
.stars { display: flex; gap: 6px; margin-bottom: 8px; }
.star { width: 40px; height: 36px; border: 1px solid #767676; border-radius: 8px; background: #fff; color: #1a1a1a; }
.star[aria-pressed="true"] { background: ${colors.primary}; color: ${colors.onPrimary}; border-color: ${colors.primary}; }
.rating label { display: block; font-size: 13px; margin-bottom: 3px; }
.rating textarea { width: 100%; height: 54px; border: 1px solid #767676; border-radius: 8px; font: inherit; padding: 6px; }
.rating .send { margin-top: 6px; padding: 8px 14px; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); border: 0; }
`;
}
