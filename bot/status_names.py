"""The names VTEX's Admin shows for each order status, in Portuguese (Brazil) and Spanish.

Source: the "Status Admin" column of VTEX's order-flow article in each language, "Fluxo e status de
pedidos" (https://help.vtex.com/pt/tutorial/fluxo-e-status-de-pedidos--tutorials_196) and "Flujo y status
de pedidos" (https://help.vtex.com/es/tutorial/fluxo-e-status-de-pedidos--tutorials_196), as published in
vtexdocs/help-center-content (docs/pt/tutorials/pedidos/todos-os-pedidos/fluxo-e-status-de-pedidos.md and
docs/es/tutorials/pedidos/todos-los-pedidos/flujo-y-status-de-pedidos.md), and, for the seller's side of a
declined cancellation, "Recusar solicitação de cancelamento do pedido". Names are short labels, kept as
VTEX writes them.

VTEX publishes no Admin name for some statuses (the table shows "-": they are internal steps, seen only
through the API). Those names are ours, marked `# ours`, shaped like VTEX's neighbouring names and like the
English names in `bot/statuses.py`.
"""

from __future__ import annotations

ADMIN_NAMES: dict[str, dict[str, str]] = {
    "pt-BR": {
        "incomplete": "Incompleto",  # ours: VTEX's articles speak of "pedidos incompletos"
        "order-created": "Processando",  # ours
        "on-order-completed": "Pedido concluído (interno)",  # ours
        "on-order-completed-ffm": "Pedido concluído (fulfillment, interno)",  # ours
        "waiting-for-authorization": "Aguardando confirmação do seller",
        "waiting-for-sellers-confirmation": "Aguardando confirmação do seller",  # ours: same step as above
        "payment-pending": "Pagamento pendente",
        "waiting-for-order-authorization": "Aguardando autorização do pedido",  # ours
        "approve-payment": "Aprovar pagamento",
        "payment-approved": "Pagamento aprovado",
        "payment-denied": "Pagamento negado",
        "window-to-change-payment": "Janela para mudança de pagamento",
        "window-to-change-seller": "Janela para mudança de seller",
        "order-accepted": "Pedido aceito",
        "waiting-ffmt-authorization": "Aguardando autorização para despachar",  # ours: as the manual one below
        "waiting-for-manual-authorization": "Aguardando autorização para despachar",
        "authorize-fulfillment": "Autorizar despacho",
        "waiting-for-fulfillment": "Aguardando fulfillment",  # ours
        "window-to-cancel": "Janela para cancelamento",
        "waiting-for-mkt-authorization": "Aguardando autorização do marketplace",  # ours
        "waiting-seller-handling": "Aguardando manuseio do seller",  # ours
        "ready-for-handling": "Pronto para o manuseio",  # the Admin label (status table: "Pronto para manuseio")
        "start-handling": "Iniciar manuseio",
        "handling": "Preparando entrega",
        "ready-for-invoicing": "Pronto para faturamento",  # ours
        "invoice": "Verificando nota fiscal",
        "invoiced": "Faturado",
        "request-cancel": "Cancelamento solicitado",
        "waiting-for-seller-decision": "Aguardando decisão do seller",
        "cancellation-requested": "Cancelamento solicitado",
        "cancellation-request-denied": "Cancelamento recusado",  # ours: VTEX's button is "Recusar"
        "cancellation-request-denied-ffm": "Cancelamento recusado (fulfillment)",  # ours
        "invoice-after-cancellation-deny": "Nota fiscal após cancelamento recusado",  # ours
        "cancel": "Cancelando",
        "canceled": "Cancelado",
        "replaced": "Substituído",  # ours: VTEX's article is "Substituição de pedidos"
        "order-create-error": "Erro na criação do pedido",  # ours
        "order-creation-error": "Erro na criação do pedido",  # ours
    },
    "es": {
        "incomplete": "Incompleto",  # ours: VTEX's articles speak of "pedidos incompletos"
        "order-created": "Procesando",  # ours
        "on-order-completed": "Pedido completado (interno)",  # ours
        "on-order-completed-ffm": "Pedido completado (fulfillment, interno)",  # ours
        "waiting-for-authorization": "Esperando confirmación del seller",
        "waiting-for-sellers-confirmation": "Esperando confirmación del seller",  # ours: same step as above
        "payment-pending": "Pago pendiente",
        "waiting-for-order-authorization": "Esperando autorización del pedido",  # ours
        "approve-payment": "Aprobar pago",
        "payment-approved": "Pago aprobado",
        "payment-denied": "Pago rechazado",
        "window-to-change-payment": "Ventana para cambiar el pago",
        "window-to-change-seller": "Ventana para cambiar el seller",
        "order-accepted": "Pedido aceptado",
        "waiting-ffmt-authorization": "Esperando autorización fulfillment",  # ours: as the manual one below
        "waiting-for-manual-authorization": "Esperando autorización fulfillment",
        "authorize-fulfillment": "Autorizar fulfillment",
        "waiting-for-fulfillment": "Esperando fulfillment",  # ours
        "window-to-cancel": "Periodo de cancelación",
        "waiting-for-mkt-authorization": "Esperando autorización del marketplace",  # ours
        "waiting-seller-handling": "Esperando preparación del seller",  # ours
        "ready-for-handling": "Listo para preparación",
        "start-handling": "Iniciar preparación",
        "handling": "Preparando envío",
        "ready-for-invoicing": "Listo para facturación",  # ours
        "invoice": "Verificando factura",
        "invoiced": "Facturado",
        "request-cancel": "Cancelación solicitada",
        "waiting-for-seller-decision": "Esperando decisión del seller",
        "cancellation-requested": "Cancelación solicitada",
        "cancellation-request-denied": "Cancelación rechazada",  # ours
        "cancellation-request-denied-ffm": "Cancelación rechazada (fulfillment)",  # ours
        "invoice-after-cancellation-deny": "Factura después de cancelación rechazada",  # ours
        "cancel": "Cancelando",
        "canceled": "Cancelado",
        "replaced": "Sustituido",  # ours
        "order-create-error": "Error en la creación del pedido",  # ours
        "order-creation-error": "Error en la creación del pedido",  # ours
    },
}
